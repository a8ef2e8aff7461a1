"""Camera plugins: cameras and NVRs that speak MQTT, on the SDK's message devices.

* ``plugins.cameras.frigate``: the ``frigate`` type, Frigate NVR's MQTT API;
* ``plugins.cameras.mqtt_camera``: the ``mqtt-camera`` type, any camera or bridge whose
  topics and payloads the configuration states.

Each module is a plugin of its own (an ``ecrin.plugins`` entry point), so a shop can
leave either out (``plugins: {disable: [...]}``).
"""

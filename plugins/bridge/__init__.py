"""The firmware bridge: a MicroPython board that wires hold-up buttons, supervised
loops and panel outputs to the hub over a framed serial link.

``plugins.bridge.codec`` is the wire codec, shared word for word with the firmware
(firmware-bridge/PROTOCOL.md): it imports nothing from the hub, so that it runs under
MicroPython too.
"""

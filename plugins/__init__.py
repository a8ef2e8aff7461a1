"""Écrin's built-in plugins.

Each subpackage is loaded through the ``ecrin.plugins`` entry-point group, the same path
a third-party plugin takes, so the built-ins prove that path works.
"""

"""A stand-in for HailoRT's Python binding: present, so the fake ``picamera2.devices.hailo``
imports, as the real one needs it.  Ronda never imports it itself (it only checks that it is
installed); the fake Hailo wrapper does the device's part."""

"""The fake ``picamera2.devices.imx500`` (see ``imx500.py``)."""

from .imx500 import IMX500, SENSOR, NetworkIntrinsics, Sensor, reset  # noqa: F401

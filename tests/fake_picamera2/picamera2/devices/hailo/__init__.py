"""The fake ``picamera2.devices.hailo`` (see ``hailo.py``)."""

from .hailo import ACCELERATOR, Accelerator, Hailo, hailo_architecture, reset  # noqa: F401

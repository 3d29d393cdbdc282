"""``picamera2.devices`` as Raspberry Pi OS ships it: ``Hailo`` only where HailoRT's
``hailo_platform`` imports (the real package guards it the same way), ``IMX500`` always."""

import contextlib

with contextlib.suppress(ModuleNotFoundError):
    from .hailo import Hailo, hailo_architecture  # noqa: F401
from .imx500 import IMX500  # noqa: F401

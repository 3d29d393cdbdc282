"""Night awareness: is the picture day, dark or infrared, and which values apply then.

``NightWatch`` follows the light of a stream of frames (``meter.py`` measures one frame,
``watch.py`` adds hysteresis); ``NightConfig`` is the ``night:`` section with the owner's night
values, which the frame loop puts in place of the day values by itself (docs/motion.md).
"""

from camera.night.config import NightConfig, NightThresholds
from camera.night.watch import LightDict, LightName, LightState, NightWatch

__all__ = ["LightDict", "LightName", "LightState", "NightConfig", "NightThresholds", "NightWatch"]

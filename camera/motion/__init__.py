"""The motion stage: decides when (and where) the detector runs.

``MotionDetector`` turns frames into persistent motion boxes, ignoring masks, noise, sparkles and
global light changes; ``RegionPlanner`` turns motion boxes and tracked objects into a few square
crops near the model's input size.  See README "Motion".
"""

from camera.motion.config import PRESETS, MotionConfig, MotionParams, RegionConfig
from camera.motion.detector import MotionDetector
from camera.motion.regions import RegionPlanner

__all__ = [
    "PRESETS",
    "MotionConfig",
    "MotionDetector",
    "MotionParams",
    "RegionConfig",
    "RegionPlanner",
]

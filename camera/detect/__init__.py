"""Person/pet detection on regions of a frame (the detector stage).

``load_detector(DetectorConfig(...))`` verifies and loads the models described in
``models/manifest.json`` and returns a ``Detector``; any problem is a one-line ``ModelError``.
"""

from camera.detect.base import Detector
from camera.detect.config import DetectorConfig
from camera.detect.errors import ModelError
from camera.detect.loader import load_detector

__all__ = ["Detector", "DetectorConfig", "ModelError", "load_detector"]

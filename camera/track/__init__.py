"""Tracker: turns per-frame detections into objects with ids, and objects into events."""

from camera.track.config import LabelRule, LabelRules, TrackerConfig
from camera.track.lifecycle import EndReason, Phase, TrackEvent
from camera.track.tracker import Tracker, event_ids

__all__ = [
    "EndReason",
    "LabelRule",
    "LabelRules",
    "Phase",
    "TrackEvent",
    "Tracker",
    "TrackerConfig",
    "event_ids",
]

"""Tracker: turns per-frame detections into objects with ids, and objects into events."""

from camera.track.config import LabelRule, LabelRules, TrackerConfig
from camera.track.tracker import Tracker, TrackEvent, event_ids

__all__ = ["LabelRule", "LabelRules", "TrackEvent", "Tracker", "TrackerConfig", "event_ids"]

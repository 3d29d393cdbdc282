"""Tracker and per-label alert rules."""

from __future__ import annotations

from pydantic import Field

from camera.section import Section
from camera.track.zones import ZoneName


class LabelRule(Section):
    """When a tracked object of one label becomes an alert."""

    threshold: float = Field(0.5, gt=0.0, le=1.0)
    """The track's median score must reach this before an event starts."""
    still_threshold: float = Field(0.95, gt=0.0, le=1.0)
    """The median score an object that never moved on its own needs to alert (a cushion beside a
    playing kitten, a stone beside a path: only something next to it moved).  Once it moves
    itself (or motion is seen on it), ``threshold`` applies.  1.0: still things never alert."""
    min_area: float = Field(0.0001, ge=0.0, lt=1.0)
    """Smallest box, as a fraction of the frame area, that may count (ignores specks)."""
    min_size_px: int = Field(12, ge=0, le=4000)
    """Smallest box, as its longer side in frame pixels, that may count: below about 14 px
    even an enlarged crop shows the detector too little to tell what it is."""
    alert_zones: list[ZoneName] = Field(default_factory=list, max_length=32)
    """Names of ``zones``: an event of this label alerts only once its object enters one of them
    (empty: anywhere).  Events that never enter one are still stored, without an alert."""


class LabelRules(Section):
    """One rule per label the detector reports."""

    person: LabelRule = LabelRule(threshold=0.5, min_area=0.0001, min_size_px=12)
    pet: LabelRule = LabelRule(threshold=0.5, min_area=0.0002, min_size_px=16)

    def by_label(self) -> dict[str, LabelRule]:
        """Every rule keyed by its label, in declaration order."""
        return {name: getattr(self, name) for name in type(self).model_fields}


# Motion-only events (detector paused by the governor) have no score to judge: any persistent
# motion that survives the motion stage's own filters counts.
MOTION_RULE = LabelRule(threshold=1e-6, min_area=0.0, min_size_px=0)


class TrackerConfig(Section):
    """How detections become events; see README "Events" for the evidence behind defaults."""

    confirm_frames: int = Field(3, ge=1, le=30)
    """Detections needed before an event starts: one-frame false positives never alert."""
    confirm_window_s: float = Field(2.0, gt=0, le=30)
    """A candidate not confirmed within this time after its first detection is forgotten."""
    end_after_s: float = Field(4.0, gt=0, le=600)
    """An object not seen for this long has left: its event ends."""
    match_iou: float = Field(0.2, ge=0.0, le=1.0)
    """No longer used (tracks continue by predicted position, see docs/tracking.md); still
    accepted so that configuration files written for earlier versions load unchanged."""
    update_min_gain: float = Field(0.1, ge=0.0, le=1.0)
    """A snapshot is "clearly better" when its score beats the current one by this much."""
    update_min_interval_s: float = Field(3.0, ge=0, le=600)
    """At most one snapshot update per event in this time, so a phone is not flooded."""
    stationary_memory_s: float = Field(300.0, ge=0, le=86400)
    """An object that re-appears where one of the same label stood still and ended within this
    time is the same object (a sleeping cat flickering in and out): it does not re-alert."""
    zone_inertia: int = Field(2, ge=1, le=10)
    """Detections in a row with the object's feet inside (or outside) a zone before it counts
    as entered (or left): a box jittering on a zone's edge does not flicker in and out."""
    labels: LabelRules = LabelRules()

    def rule(self, label: str) -> LabelRule:
        rule = getattr(self.labels, label, None)
        return rule if isinstance(rule, LabelRule) else MOTION_RULE

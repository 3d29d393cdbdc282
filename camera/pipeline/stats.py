"""Counters of one run, for the replay summary, the MQTT stats message and systemd STATUS."""

from __future__ import annotations

import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypedDict

import numpy as np

if TYPE_CHECKING:
    from camera.events import EventUpdate

AGE_WINDOW = 300
"""Processed frames over which the frame age percentiles are taken (30 s at 10 fps)."""


class PipelineCounters(TypedDict):
    """``PipelineStats.as_dict()``: the frame loop's part of the stats message."""

    frame_age_p50_ms: float | None
    frame_age_p95_ms: float | None
    stale_dropped: int
    frames: int
    processed: int
    motion_frames: int
    detector_calls: int
    detector_ms: float
    fps: float
    motion_share: float
    events: dict[str, int]
    alerts: dict[str, int]
    """Events that alerted, by label: fewer than ``events`` when alert_zones hold some back."""
    last_event: str


@dataclass
class PipelineStats:
    frames: int = 0
    processed: int = 0
    motion_frames: int = 0
    detector_calls: int = 0
    detector_crops: int = 0
    detector_seconds: float = 0.0
    events: Counter[str] = field(default_factory=Counter)
    alerts: Counter[str] = field(default_factory=Counter)
    updates: int = 0
    first_timestamp: float | None = None
    last_timestamp: float | None = None
    wall_started: float = field(default_factory=time.monotonic)
    last_event: str = ""
    stale_dropped: int = 0
    """Frames the source dropped because the loop was busy (copied from the source)."""
    _recent: deque[float] = field(default_factory=lambda: deque(maxlen=50))
    _ages: deque[float] = field(default_factory=lambda: deque(maxlen=AGE_WINDOW))

    def frame_seen(self, timestamp: float) -> None:
        self.frames += 1
        if self.first_timestamp is None:
            self.first_timestamp = timestamp
        self.last_timestamp = timestamp

    def frame_processed(self, timestamp: float) -> None:
        self.processed += 1
        self._recent.append(timestamp)

    def detector_ran(self, seconds: float, *, crops: int) -> None:
        self.detector_seconds += seconds
        self.detector_calls += 1
        self.detector_crops += crops

    def event_update(self, update: EventUpdate) -> None:
        """One update published: a new event counts at its first start, an alert at a start
        that alerted (an event held back by alert_zones alerts later, or never)."""
        self.updates += 1
        if update.type == "start" and update.sequence == 1:
            self.events[update.label] += 1
        if update.type == "start" and update.alerted:
            self.alerts[update.label] += 1
        self.last_event = f"{update.type} {update.label} {update.id}"

    def frame_age(self, seconds: float) -> None:
        """How old a frame was when the loop started on it (now minus its capture time)."""
        self._ages.append(seconds)

    def age_percentiles_ms(self) -> tuple[float, float] | None:
        """``(p50, p95)`` of the recent frame ages in ms; None without live frames."""
        if not self._ages:
            return None
        p50, p95 = np.percentile(np.fromiter(self._ages, float), [50, 95])
        return float(p50) * 1000.0, float(p95) * 1000.0

    @property
    def recent_fps(self) -> float:
        """Processed frames per second of the source's clock, over the last frames."""
        if len(self._recent) < 2 or self._recent[-1] <= self._recent[0]:
            return 0.0
        return (len(self._recent) - 1) / (self._recent[-1] - self._recent[0])

    @property
    def wall_seconds(self) -> float:
        return time.monotonic() - self.wall_started

    @property
    def effective_fps(self) -> float:
        """Frames handled per wall-clock second (the replay speed)."""
        wall = self.wall_seconds
        return self.frames / wall if wall > 0 else 0.0

    @property
    def detector_ms(self) -> float:
        """Mean milliseconds per detector call."""
        return 1000 * self.detector_seconds / self.detector_calls if self.detector_calls else 0.0

    def summary(self) -> str:
        """The one paragraph printed at the end of a replay."""
        events = ", ".join(f"{n} {label}" for label, n in sorted(self.events.items())) or "none"
        if self.alerts != self.events:
            alerted = sum(self.alerts.values())
            events += f" ({alerted} alerted, the others stored only: outside their alert zones)"
        saved = 100.0 * (1 - self.detector_calls / self.processed) if self.processed else 0.0
        return (
            f"{self.frames} frames ({self.processed} processed) in {self.wall_seconds:.1f} s, "
            f"{self.effective_fps:.1f} frames/s; motion on {self.motion_frames} frames; "
            f"detector ran on {self.detector_calls} frames ({self.detector_crops} crops, "
            f"{self.detector_ms:.1f} ms per call, {saved:.0f} % of frames skipped by motion "
            f"gating); events: {events}; {self.updates} event updates.{self._age_summary()}"
        )

    def _age_summary(self) -> str:
        ages = self.age_percentiles_ms()
        if ages is None:
            return ""
        return (
            f" Frame age p50 {ages[0]:.0f} ms, p95 {ages[1]:.0f} ms; "
            f"{self.stale_dropped} stale frames dropped."
        )

    def as_dict(self) -> PipelineCounters:
        ages = self.age_percentiles_ms()
        return PipelineCounters(
            {
                "frame_age_p50_ms": None if ages is None else round(ages[0], 1),
                "frame_age_p95_ms": None if ages is None else round(ages[1], 1),
                "stale_dropped": self.stale_dropped,
                "frames": self.frames,
                "processed": self.processed,
                "motion_frames": self.motion_frames,
                "detector_calls": self.detector_calls,
                "detector_ms": round(self.detector_ms, 2),
                "fps": round(self.recent_fps, 2),
                "motion_share": round(self.motion_frames / self.processed, 4)
                if self.processed
                else 0,
                "events": dict(self.events),
                "alerts": dict(self.alerts),
                "last_event": self.last_event,
            }
        )

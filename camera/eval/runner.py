"""Replay labelled clips through the real pipeline (the ``Runtime`` that ``ronda replay`` uses)
and collect, per clip, the events it produced and the detector's work."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from camera.app import RunOptions, Runtime
from camera.config import RondaConfig
from camera.eval.manifest import LabelledClip
from camera.eval.metrics import AlertedEvent, Span
from camera.events import EventUpdate
from camera.sources.video import DEFAULT_FOLDER_FPS, VideoFileSource

log = logging.getLogger(__name__)


@dataclass
class _EventLog:
    """What one event went through, gathered from its updates."""

    label: str
    subclass: str
    start: float
    end: float
    alert_time: float | None = None
    zones: tuple[str, ...] = ()
    thumbnail: bytes | None = None
    box: tuple[float, float, float, float] | None = None

    def freeze(self, event_id: str) -> AlertedEvent:
        return AlertedEvent(
            event_id,
            self.label,
            self.subclass,
            self.start,
            self.end,
            self.alert_time,
            self.zones,
            self.thumbnail,
            self.box,
        )


class EventCollector:
    """An event sink that keeps every update of the clip being replayed (alerting or not)."""

    def __init__(self) -> None:
        self.events: dict[str, _EventLog] = {}

    def emit(self, update: EventUpdate, thumbnail: bytes | None) -> None:
        entry = self.events.get(update.id)
        if entry is None:
            entry = _EventLog(update.label, update.subclass, update.start_time, update.frame_time)
            self.events[update.id] = entry
        entry.label, entry.subclass = update.label, update.subclass
        entry.end = update.end_time if update.end_time is not None else update.frame_time
        entry.zones = tuple(update.zones)
        if update.alert and entry.alert_time is None:
            entry.alert_time = update.frame_time
            x1, y1, x2, y2 = update.box
            entry.box = (x1, y1, x2, y2)
        if thumbnail and (entry.thumbnail is None or update.alert):
            entry.thumbnail = thumbnail

    def take(self) -> list[AlertedEvent]:
        """The events of the clip just replayed, by start time; then forget them."""
        events = sorted(
            (entry.freeze(event_id) for event_id, entry in self.events.items()),
            key=lambda e: (e.start, e.id),
        )
        self.events = {}
        return events

    def close(self) -> None:
        pass


@dataclass
class ClipRun:
    """One clip's replay: its visits and events in seconds, and what the pipeline spent."""

    clip: LabelledClip
    fps: float
    frames: int
    duration_s: float
    visits: list[Span]
    events: list[AlertedEvent]
    detector_calls: int
    detector_crops: int
    processed: int
    wall_s: float
    extra: dict[str, float] = field(default_factory=dict)


def replay_clips(
    config: RondaConfig,
    clips: list[LabelledClip],
    stop: threading.Event,
    on_clip: Callable[[ClipRun], None] | None = None,
) -> list[ClipRun]:
    """Replay each clip in turn through one ``Runtime`` (no MQTT, no governor: a replay as fast
    as the CPU allows, with the configuration's detector, tracker and zones)."""
    collector = EventCollector()
    runtime = Runtime(
        config, RunOptions(use_mqtt=False, extra_sinks=[collector], use_governor=False)
    )
    runs: list[ClipRun] = []
    try:
        for clip in clips:
            if stop.is_set():
                break
            source = VideoFileSource(clip.path, folder_fps=clip.fps or DEFAULT_FOLDER_FPS)
            stats = runtime.pipeline.stats
            before = (stats.frames, stats.processed, stats.detector_calls, stats.detector_crops)
            started = time.monotonic()
            log.info("eval: replaying %s", clip.name)
            runtime.run_source(source, stop)
            frames = stats.frames - before[0]
            run = ClipRun(
                clip=clip,
                fps=source.fps,
                frames=frames,
                duration_s=frames / source.fps,
                visits=[
                    Span(v.label, v.first / source.fps, (v.last + 1) / source.fps)
                    for v in clip.visits
                ],
                events=collector.take(),
                detector_calls=stats.detector_calls - before[2],
                detector_crops=stats.detector_crops - before[3],
                processed=stats.processed - before[1],
                wall_s=time.monotonic() - started,
            )
            runs.append(run)
            if on_clip is not None:
                on_clip(run)
    finally:
        runtime.close()
    return runs

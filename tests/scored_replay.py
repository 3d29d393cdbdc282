"""Clips replayed in turn through one real ``Runtime`` (no MQTT, no governor), each scored
against its labelled visits: the tracker tests judge whole visits, not single frames."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from camera.app import RunOptions, Runtime, replay_files
from camera.config import parse_config
from camera.eval.metrics import ClipScore, Span, score_clip
from camera.eval.runner import EventCollector
from camera.events import EventUpdate
from camera.sources import open_replay
from camera.sources.base import FrameSource


@dataclass
class Replayed:
    visits: list[Span]
    score: ClipScore
    updates: list[EventUpdate]


class Updates:
    """An event sink that keeps every update, in order."""

    def __init__(self) -> None:
        self.all: list[EventUpdate] = []

    def emit(self, update: EventUpdate, thumbnail: bytes | None) -> None:
        self.all.append(update)

    def close(self) -> None:
        pass


class ScoredReplays:
    """One runtime with its store under ``root``; ``replay`` plays a clip or a source through it."""

    def __init__(self, root: Path) -> None:
        config = parse_config({"store": {"path": str(root / "state")}, "mqtt": {"enabled": False}})
        self.collector, self.updates = EventCollector(), Updates()
        self.runtime = Runtime(
            config,
            RunOptions(
                use_mqtt=False, extra_sinks=[self.collector, self.updates], use_governor=False
            ),
        )

    def replay(self, what: Path | FrameSource, visits: list[Span], tolerance_s: float) -> Replayed:
        """Play a video file or folder (``Path``) or a ready source, and score its events."""
        start = len(self.updates.all)
        if isinstance(what, Path):
            replay_files(self.runtime, [open_replay(what)], threading.Event())
        else:
            self.runtime.run_source(what, threading.Event())
        score, _ = score_clip(visits, self.collector.take(), tolerance_s=tolerance_s)
        return Replayed(visits, score, self.updates.all[start:])

    def close(self) -> None:
        self.runtime.close()

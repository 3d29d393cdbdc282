"""What a camera that runs for months relies on: a looping file whose passes are spread over a
day (the soak's simulated day), and retention applied while running, not only at the stop."""

from __future__ import annotations

import itertools
from pathlib import Path

import cv2
import numpy as np
import pytest

from camera.pipeline import StoreSink
from camera.sources import open_source
from camera.sources.config import SourceConfig
from camera.store import Database, EventStore
from camera.store.config import StoreConfig
from tests.event_factory import event_update


def test_a_looping_file_puts_its_gap_between_passes(tmp_path: Path) -> None:
    for index in range(3):  # a three-frame "recording" at the folder rate of 10 fps
        cv2.imwrite(str(tmp_path / f"{index}.png"), np.full((24, 32, 3), index * 40, np.uint8))
    config = SourceConfig(kind="file", uri=str(tmp_path), loop=True, loop_gap_s=3600.0)
    source = open_source(config.model_copy(update={"realtime": False}))
    stamps = [frame.timestamp for frame in itertools.islice(source.frames(), 7)]
    source.close()
    assert stamps == [0.0, 0.1, 0.2, 3600.3, 3600.4, 3600.5, 7200.6]


def test_retention_is_applied_while_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(StoreSink, "PRUNE_INTERVAL_S", 0.0)  # as if minutes passed between ends
    store = EventStore(Database(tmp_path / "ronda.sqlite3"), StoreConfig(max_events=10))
    sink = StoreSink(store)
    for number in range(15):
        event_id = f"e-{number:04d}"
        sink.emit(event_update(event_id), None)
        sink.emit(event_update(event_id, kind="end", sequence=2), None)
    assert store.count() == 10  # pruned at the ends, before any close()
    store.database.close()

"""A state database written before zones existed opens, gains the new columns, and keeps its
events: an upgrade never loses history nor needs a manual step."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from camera.events import EventUpdate
from camera.store import Database, EventStore, StoreConfig

OLD_SCHEMA = """
CREATE TABLE events (
    id TEXT PRIMARY KEY, camera TEXT NOT NULL, label TEXT NOT NULL, subclass TEXT NOT NULL,
    score REAL NOT NULL, box TEXT NOT NULL, start_time REAL NOT NULL, end_time REAL,
    last_type TEXT NOT NULL, motion_only INTEGER NOT NULL DEFAULT 0, source TEXT NOT NULL,
    thumbnail TEXT, recorded_at REAL NOT NULL
);
INSERT INTO events VALUES ('old-0001', 'porch', 'person', 'person', 0.8, '[1,2,3,4]', 5.0, 9.0,
    'end', 0, 'porch-cam', NULL, 1000.0);
"""


def update(event_id: str, kind: str, sequence: int, alert: bool, zones: list[str]) -> EventUpdate:
    return EventUpdate(
        id=event_id,
        camera="porch",
        type=kind,
        label="person",
        subclass="person",
        score=0.7,
        box=[1, 2, 3, 4],
        frame_time=10.0 + sequence,
        start_time=10.0,
        end_time=None,
        thumbnail_topic=None,
        has_thumbnail=False,
        model_precision="int8",
        motion_only=False,
        source="porch-cam",
        sequence=sequence,
        camera_name="porch",
        start_local="2024-01-05T21:04:03+01:00",
        end_local=None,
        label_idle_s=None,
        previous_label=None,
        zones=zones,
        alert=alert,
    )


def test_an_old_database_gains_zones_and_alerted(tmp_path: Path) -> None:
    path = tmp_path / "ronda.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.executescript(OLD_SCHEMA)
    database = Database(path)
    store = EventStore(database, StoreConfig())
    (old,) = store.recent()
    assert (old.id, old.zones, old.alerted) == ("old-0001", [], True)
    database.close()


def test_alerted_stays_true_once_set_and_zones_follow_the_event(tmp_path: Path) -> None:
    database = Database(tmp_path / "ronda.sqlite3")
    store = EventStore(database, StoreConfig())
    store.record(update("e-1", "start", 1, alert=False, zones=["pavement"]), None)
    assert [(e.alerted, e.zones) for e in store.recent()] == [(False, ["pavement"])]
    store.record(update("e-1", "start", 2, alert=True, zones=["pavement", "drive"]), None)
    store.record(update("e-1", "end", 3, alert=True, zones=["pavement", "drive"]), None)
    (event,) = store.recent()
    assert (event.alerted, event.zones, event.last_type) == (True, ["pavement", "drive"], "end")
    database.close()

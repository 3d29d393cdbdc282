"""The home page's own SQLite file: what it has seen of every camera, kept across restarts.

Written only by the MQTT thread (one connection, a lock), read by the page.  An event is one
row per camera and event id, whatever number of updates, duplicates or re-deliveries arrive:
a QoS 1 message the broker sends again after a reconnect (or that a persistent session held
while the page was down) replaces the row it already made, so every event shows once.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

DATABASE_NAME = "home.db"
SCHEMA = """
CREATE TABLE IF NOT EXISTS cameras (
    id INTEGER PRIMARY KEY,
    prefix TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    online INTEGER,
    seen_at REAL,
    level TEXT,
    armed TEXT,
    snooze TEXT,
    page TEXT,
    stats_at REAL
);
CREATE TABLE IF NOT EXISTS snapshots (
    camera INTEGER NOT NULL REFERENCES cameras(id) ON DELETE CASCADE,
    label TEXT NOT NULL,
    jpeg BLOB NOT NULL,
    received REAL NOT NULL,
    PRIMARY KEY (camera, label)
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    camera INTEGER NOT NULL REFERENCES cameras(id) ON DELETE CASCADE,
    event_id TEXT NOT NULL,
    label TEXT NOT NULL DEFAULT '',
    score REAL,
    sequence INTEGER NOT NULL DEFAULT -1,
    kind TEXT NOT NULL DEFAULT '',
    start_time REAL,
    end_time REAL,
    start_local TEXT,
    received REAL NOT NULL,
    thumbnail BLOB,
    UNIQUE (camera, event_id)
);
CREATE INDEX IF NOT EXISTS events_received ON events(received);
"""


@dataclass(frozen=True, slots=True)
class CameraRow:
    id: int
    prefix: str
    name: str
    online: bool | None
    seen_at: float | None
    level: str | None
    armed: str | None
    snooze: str | None
    """Minutes left of the camera's snooze (its retained ``snooze``), ``0`` when none."""
    page: str | None
    snapshots: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class EventRow:
    id: int
    camera: str
    camera_id: int
    event_id: str
    label: str
    score: float | None
    kind: str
    start_local: str | None
    received: float
    thumbnail: bool


@dataclass(frozen=True, slots=True)
class EventFacts:
    """The fields of an event update the home keeps (the rest stays on the camera)."""

    event_id: str
    label: str
    score: float | None
    sequence: int
    kind: str
    start_time: float | None
    end_time: float | None
    start_local: str | None


class HomeStore:
    def __init__(self, directory: Path, keep_events: int) -> None:
        directory.mkdir(parents=True, exist_ok=True, mode=0o750)
        self.path = directory / DATABASE_NAME
        self.keep_events = keep_events
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=10
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(cameras)")}
        if "snooze" not in columns:  # a store made before the page showed snoozes
            self._db.execute("ALTER TABLE cameras ADD COLUMN snooze TEXT")
        self._inserted = 0

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- written by the MQTT thread ---------------------------------------------------------
    def camera(self, prefix: str, name: str | None = None) -> int:
        """The camera's row id, made at its first message; ``name`` (from its own messages)
        replaces the one guessed from the topic."""
        with self._write() as db:
            return self._camera(db, prefix, name)

    def _camera(self, db: sqlite3.Connection, prefix: str, name: str | None) -> int:
        row = db.execute("SELECT id, name FROM cameras WHERE prefix = ?", (prefix,)).fetchone()
        if row is None:
            shown = name or prefix.rsplit("/", 1)[-1]
            cursor = db.execute("INSERT INTO cameras (prefix, name) VALUES (?, ?)", (prefix, shown))
            return int(cursor.lastrowid or 0)
        if name and name != row[1]:
            db.execute("UPDATE cameras SET name = ? WHERE id = ?", (name, row[0]))
        return int(row[0])

    def availability(self, prefix: str, online: bool) -> None:
        with self._write() as db:
            camera = self._camera(db, prefix, None)
            db.execute(
                "UPDATE cameras SET online = ?, seen_at = ? WHERE id = ?",
                (int(online), time.time(), camera),
            )

    def stats(self, prefix: str, name: str | None, level: str | None, page: str | None) -> None:
        with self._write() as db:
            camera = self._camera(db, prefix, name)
            db.execute(
                "UPDATE cameras SET level = ?, page = ?, stats_at = ? WHERE id = ?",
                (level, page, time.time(), camera),
            )

    def control(self, prefix: str, control: str, state: str | None) -> None:
        """A camera's retained ``armed`` or ``snooze`` state."""
        column = {"armed": "armed", "snooze": "snooze"}[control]
        with self._write() as db:
            camera = self._camera(db, prefix, None)
            db.execute(f"UPDATE cameras SET {column} = ? WHERE id = ?", (state, camera))

    def snapshot(self, prefix: str, label: str, jpeg: bytes) -> None:
        with self._write() as db:
            camera = self._camera(db, prefix, None)
            db.execute(
                "INSERT INTO snapshots (camera, label, jpeg, received) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (camera, label) DO UPDATE SET jpeg = excluded.jpeg, "
                "received = excluded.received",
                (camera, label, jpeg, time.time()),
            )

    def event(self, prefix: str, name: str | None, facts: EventFacts) -> None:
        """One update: the event's row made or brought up to date (an older or repeated
        update changes nothing)."""
        with self._write() as db:
            camera = self._camera(db, prefix, name)
            db.execute(
                "INSERT INTO events (camera, event_id, label, score, sequence, kind, start_time,"
                " end_time, start_local, received) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (camera, event_id) DO UPDATE SET label = excluded.label, "
                "score = excluded.score, sequence = excluded.sequence, kind = excluded.kind, "
                "start_time = excluded.start_time, end_time = excluded.end_time, "
                "start_local = excluded.start_local WHERE excluded.sequence > events.sequence",
                (
                    camera,
                    facts.event_id,
                    facts.label,
                    facts.score,
                    facts.sequence,
                    facts.kind,
                    facts.start_time,
                    facts.end_time,
                    facts.start_local,
                    time.time(),
                ),
            )
            self._inserted += 1
            if self._inserted % 100 == 0:
                self._prune(db)

    def thumbnail(self, prefix: str, event_id: str, jpeg: bytes) -> None:
        """The event's picture: the latest wins (an update sends a better one)."""
        with self._write() as db:
            camera = self._camera(db, prefix, None)
            db.execute(
                "INSERT INTO events (camera, event_id, received, thumbnail) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (camera, event_id) DO UPDATE SET thumbnail = excluded.thumbnail",
                (camera, event_id, time.time(), jpeg),
            )

    def _prune(self, db: sqlite3.Connection) -> None:
        db.execute(
            "DELETE FROM events WHERE id NOT IN "
            "(SELECT id FROM events ORDER BY received DESC, id DESC LIMIT ?)",
            (self.keep_events,),
        )

    # -- read by the page ---------------------------------------------------------------------
    def cameras(self) -> list[CameraRow]:
        with self._lock:
            rows = self._db.execute(
                "SELECT c.id, c.prefix, c.name, c.online, c.seen_at, c.level, c.armed, c.snooze, "
                "c.page, "
                "(SELECT group_concat(label) FROM snapshots s WHERE s.camera = c.id) "
                "FROM cameras c ORDER BY c.name, c.id"
            ).fetchall()
        return [
            CameraRow(
                id=row[0],
                prefix=row[1],
                name=row[2],
                online=None if row[3] is None else bool(row[3]),
                seen_at=row[4],
                level=row[5],
                armed=row[6],
                snooze=row[7],
                page=row[8],
                snapshots=tuple(sorted((row[9] or "").split(","))) if row[9] else (),
            )
            for row in rows
        ]

    def timeline(self, limit: int) -> list[EventRow]:
        """The newest events of every camera, merged (by arrival: cameras' clocks differ)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT e.id, c.name, c.id, e.event_id, e.label, e.score, e.kind, "
                "e.start_local, e.received, e.thumbnail IS NOT NULL FROM events e "
                "JOIN cameras c ON c.id = e.camera WHERE e.label != '' "
                "ORDER BY e.received DESC, e.id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [
            EventRow(
                id=row[0],
                camera=row[1],
                camera_id=row[2],
                event_id=row[3],
                label=row[4],
                score=row[5],
                kind=row[6],
                start_local=row[7],
                received=row[8],
                thumbnail=bool(row[9]),
            )
            for row in rows
        ]

    def snapshot_jpeg(self, camera: int, label: str) -> bytes | None:
        with self._lock:
            row = self._db.execute(
                "SELECT jpeg FROM snapshots WHERE camera = ? AND label = ?", (camera, label)
            ).fetchone()
        return None if row is None else bytes(row[0])

    def thumbnail_jpeg(self, row_id: int) -> bytes | None:
        with self._lock:
            row = self._db.execute(
                "SELECT thumbnail FROM events WHERE id = ?", (row_id,)
            ).fetchone()
        return None if row is None or row[0] is None else bytes(row[0])

    def count_events(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM events").fetchone()[0])

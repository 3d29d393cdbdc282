"""One SQLite database shared by the event store and the outbox.

SQLite in WAL mode with ``synchronous=FULL`` makes every committed alert survive a crash, a
``kill -9`` and a power cut; at a few events a minute the fsyncs cost nothing.  One connection,
serialised by a lock, because the frame loop writes and the MQTT thread acknowledges.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY,
    camera TEXT NOT NULL,
    label TEXT NOT NULL,
    subclass TEXT NOT NULL,
    score REAL NOT NULL,
    box TEXT NOT NULL,
    start_time REAL NOT NULL,
    end_time REAL,
    last_type TEXT NOT NULL,
    motion_only INTEGER NOT NULL DEFAULT 0,
    source TEXT NOT NULL,
    thumbnail TEXT,
    recorded_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS events_recorded ON events(recorded_at);
CREATE TABLE IF NOT EXISTS event_updates (
    event_id TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    type TEXT NOT NULL,
    label TEXT NOT NULL,
    subclass TEXT NOT NULL,
    score REAL NOT NULL,
    box TEXT NOT NULL,
    frame_time REAL NOT NULL,
    has_thumbnail INTEGER NOT NULL,
    recorded_at REAL NOT NULL,
    PRIMARY KEY (event_id, sequence)
);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    qos INTEGER NOT NULL,
    retain INTEGER NOT NULL,
    event_id TEXT,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    topic BLOB NOT NULL,
    payload BLOB NOT NULL,
    qos INTEGER NOT NULL,
    retain INTEGER NOT NULL,
    event_id TEXT,
    created_at REAL NOT NULL,
    attempts INTEGER NOT NULL,
    reason TEXT NOT NULL,
    buried_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS clips (
    file TEXT PRIMARY KEY,
    start_time REAL NOT NULL,
    state TEXT NOT NULL,
    duration_s REAL,
    size_bytes INTEGER,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS event_clips (
    event_id TEXT PRIMARY KEY,
    file TEXT NOT NULL,
    offset_s REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS event_clips_file ON event_clips(file);
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""


class DatabaseError(Exception):
    """The state database cannot be opened or written (one user-facing line)."""


class Database:
    """Thread-safe wrapper around one SQLite connection."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._connection = sqlite3.connect(
                str(path), check_same_thread=False, isolation_level=None, timeout=10
            )
            self._connection.execute("PRAGMA journal_mode=WAL")
            self._connection.execute("PRAGMA synchronous=FULL")
            self._connection.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as error:
            raise DatabaseError(f"cannot open state database {path}: {error}") from error
        self._lock = threading.RLock()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run statements atomically: all of an event's messages are queued or none."""
        with self._lock:
            self._connection.execute("BEGIN IMMEDIATE")
            try:
                yield self._connection
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
            self._connection.execute("COMMIT")

    def query(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple]:
        with self._lock:
            return self._connection.execute(sql, params).fetchall()

    def add_counter(self, connection: sqlite3.Connection, name: str, amount: int) -> None:
        connection.execute(
            "INSERT INTO counters(name, value) VALUES(?, ?) "
            "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
            (name, amount),
        )

    def counter(self, name: str) -> int:
        rows = self.query("SELECT value FROM counters WHERE name = ?", (name,))
        return int(rows[0][0]) if rows else 0

    def close(self) -> None:
        with self._lock:
            self._connection.close()

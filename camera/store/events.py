"""The local event history: one row per event plus its best thumbnail as a file, and the list of
updates each event went through (start, better snapshots, label changes, end).

Kept even when MQTT is off (``ronda demo``, ``--no-mqtt``) so that ``ronda events`` and the web
page can always answer "what happened?".  Retention is by age and by count; the thumbnail files
go with their rows, and so do the clip files that no remaining event shows.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path

from camera.events import ClipRef, EventUpdate
from camera.store.clips import ClipStore
from camera.store.config import StoreConfig
from camera.store.database import Database

log = logging.getLogger(__name__)

_EVENT_COLUMNS = (
    "id, camera, label, subclass, score, box, start_time, end_time, last_type, motion_only,"
    " source, thumbnail, recorded_at"
)


@dataclass(frozen=True, slots=True)
class StoredEvent:
    id: str
    camera: str
    label: str
    subclass: str
    score: float
    box: list[int]
    start_time: float
    end_time: float | None
    last_type: str
    motion_only: bool
    source: str
    thumbnail: Path | None
    recorded_at: float = 0.0
    """Wall-clock time the event was first stored (event times are recording time in replay)."""
    clip: ClipRef | None = None
    """The event's finished clip (``camera.store.clips``), None without one."""


@dataclass(frozen=True, slots=True)
class StoredUpdate:
    """One update an event went through, as it was published."""

    sequence: int
    type: str
    label: str
    subclass: str
    score: float
    box: list[int]
    frame_time: float
    has_thumbnail: bool
    recorded_at: float


@dataclass(frozen=True, slots=True)
class EventFilter:
    """What the events list asks for: newest first, optionally one label and a time span
    (wall-clock epoch seconds of ``recorded_at``)."""

    label: str | None = None
    since: float | None = None
    until: float | None = None
    limit: int = 50
    offset: int = 0


def _event(row: tuple) -> StoredEvent:
    return StoredEvent(
        id=row[0],
        camera=row[1],
        label=row[2],
        subclass=row[3],
        score=row[4],
        box=json.loads(row[5]),
        start_time=row[6],
        end_time=row[7],
        last_type=row[8],
        motion_only=bool(row[9]),
        source=row[10],
        thumbnail=Path(row[11]) if row[11] else None,
        recorded_at=row[12],
    )


class EventStore:
    """Records event updates; see the module docstring."""

    def __init__(self, database: Database, config: StoreConfig) -> None:
        self.database = database
        self.config = config
        self.state_dir = database.path.parent
        self.thumbnail_dir = self.state_dir / "thumbnails"
        self.thumbnail_dir.mkdir(parents=True, exist_ok=True)
        self.clips = ClipStore(database)

    def record(self, update: EventUpdate, thumbnail: bytes | None) -> None:
        path: Path | None = None
        now = time.time()
        if thumbnail:
            path = self.thumbnail_dir / f"{update.id}.jpg"
            temporary = path.with_suffix(".tmp")
            temporary.write_bytes(thumbnail)
            temporary.replace(path)
        with self.database.transaction() as db:
            db.execute(
                f"INSERT INTO events({_EVENT_COLUMNS}) VALUES ({', '.join('?' * 13)})"
                " ON CONFLICT(id) DO UPDATE SET label=excluded.label, subclass=excluded.subclass,"
                " score=excluded.score, box=excluded.box, end_time=excluded.end_time,"
                " last_type=excluded.last_type, thumbnail=COALESCE(excluded.thumbnail, thumbnail)",
                (
                    update.id,
                    update.camera,
                    update.label,
                    update.subclass,
                    update.score,
                    json.dumps(update.box),
                    update.start_time,
                    update.end_time,
                    update.type,
                    int(update.motion_only),
                    update.source,
                    str(path) if path else None,
                    now,
                ),
            )
            db.execute(
                "INSERT OR REPLACE INTO event_updates(event_id, sequence, type, label, subclass,"
                " score, box, frame_time, has_thumbnail, recorded_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    update.id,
                    update.sequence,
                    update.type,
                    update.label,
                    update.subclass,
                    update.score,
                    json.dumps(update.box),
                    update.frame_time,
                    int(thumbnail is not None),
                    now,
                ),
            )
            if update.clip is not None:
                self.clips.link(db, update.id, update.clip)

    def recent(self, limit: int = 20) -> list[StoredEvent]:
        return self.find(EventFilter(limit=limit))

    def find(self, query: EventFilter) -> list[StoredEvent]:
        """Events newest first, filtered by label and by the time they were recorded."""
        where: list[str] = ["1=1"]
        params: list[object] = []
        if query.label:
            where.append("label = ?")
            params.append(query.label)
        if query.since is not None:
            where.append("recorded_at >= ?")
            params.append(query.since)
        if query.until is not None:
            where.append("recorded_at < ?")
            params.append(query.until)
        rows = self.database.query(
            f"SELECT {_EVENT_COLUMNS} FROM events WHERE {' AND '.join(where)}"
            " ORDER BY recorded_at DESC, rowid DESC LIMIT ? OFFSET ?",
            (*params, query.limit, query.offset),
        )
        return [self._with_clip(_event(r)) for r in rows]

    def get(self, event_id: str) -> StoredEvent | None:
        rows = self.database.query(f"SELECT {_EVENT_COLUMNS} FROM events WHERE id = ?", (event_id,))
        return self._with_clip(_event(rows[0])) if rows else None

    def _with_clip(self, event: StoredEvent) -> StoredEvent:
        clip = self.clips.for_event(event.id)
        return event if clip is None else replace(event, clip=clip)

    def updates(self, event_id: str) -> list[StoredUpdate]:
        """The updates of one event in the order they were published."""
        rows = self.database.query(
            "SELECT sequence, type, label, subclass, score, box, frame_time, has_thumbnail,"
            " recorded_at FROM event_updates WHERE event_id = ? ORDER BY sequence",
            (event_id,),
        )
        return [
            StoredUpdate(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]), r[6], bool(r[7]), r[8])
            for r in rows
        ]

    def labels(self) -> list[str]:
        """The labels that occur in the history (for the list's filter)."""
        return [r[0] for r in self.database.query("SELECT DISTINCT label FROM events ORDER BY 1")]

    def delete(self, event_id: str) -> bool:
        """Remove one event, its updates and its files; False when there was no such event."""
        with self.database.transaction() as db:
            doomed = db.execute("SELECT id, thumbnail FROM events WHERE id = ?", (event_id,))
            rows = doomed.fetchall()
            db.execute("DELETE FROM events WHERE id = ?", (event_id,))
            db.execute("DELETE FROM event_updates WHERE event_id = ?", (event_id,))
            clips = self.clips.unlink_events(db, [event_id])
        self._remove_files(rows, clips)
        if rows:
            log.info("event %s deleted", event_id)
        return bool(rows)

    def count(self) -> int:
        return int(self.database.query("SELECT COUNT(*) FROM events")[0][0])

    def count_since(self, since: float) -> int:
        """Events first recorded at or after ``since`` (epoch seconds): "events today"."""
        rows = self.database.query("SELECT COUNT(*) FROM events WHERE recorded_at >= ?", (since,))
        return int(rows[0][0])

    def prune(self, now: float | None = None) -> int:
        """Apply retention; returns how many events were removed."""
        now = time.time() if now is None else now
        cutoff = now - self.config.retention_days * 86400
        with self.database.transaction() as db:
            doomed = db.execute(
                "SELECT id, thumbnail FROM events WHERE recorded_at < ? UNION "
                "SELECT id, thumbnail FROM events WHERE id NOT IN "
                "(SELECT id FROM events ORDER BY recorded_at DESC LIMIT ?)",
                (cutoff, self.config.max_events),
            ).fetchall()
            db.executemany("DELETE FROM events WHERE id = ?", [(d[0],) for d in doomed])
            db.executemany(
                "DELETE FROM event_updates WHERE event_id = ?", [(d[0],) for d in doomed]
            )
            clips = self.clips.unlink_events(db, [d[0] for d in doomed])
        self._remove_files(doomed, clips)
        if doomed:
            log.info("retention: removed %d old event(s) and %d clip(s)", len(doomed), len(clips))
        return len(doomed)

    def _remove_files(self, rows: list[tuple], clips: list[str]) -> None:
        """Thumbnails of removed events, and clips no remaining event shows."""
        for _, thumbnail in rows:
            if thumbnail:
                Path(thumbnail).unlink(missing_ok=True)
        for file in clips:
            self.clips.path(file).unlink(missing_ok=True)

"""The local event history: one row per event plus its best thumbnail as a file, and the list of
updates each event went through (start, better snapshots, label changes, end).

Kept even when MQTT is off (``ronda demo``, ``--no-mqtt``) so that ``ronda events`` and the web
page can always answer "what happened?".  Retention is by age and by count; the thumbnail files
go with their rows, and so do the clip files that no remaining event shows.

The history is a convenience beside the alerts, so it degrades instead of stopping the camera: a
thumbnail that cannot be written (``thumbnails`` is a file, read-only, immutable, or the disk is
full) is logged once and the event is stored without it; a row that cannot be written is logged
once.  Reading skips a row it cannot make sense of (a damaged or hand-edited database) with a
warning, and shows the others.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import sqlite3
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from camera.events import ClipRef, EventUpdate
from camera.files import describe_os_error, shown
from camera.store.clips import ClipStore
from camera.store.config import StoreConfig
from camera.store.database import Database
from camera.store.lasting_problem import LastingProblem

log = logging.getLogger(__name__)

_EVENT_COLUMNS = (
    "id, camera, label, subclass, score, box, start_time, end_time, last_type, motion_only,"
    " source, thumbnail, recorded_at, zones, alerted"
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
    zones: list[str] = field(default_factory=list)
    """The zones its object entered, first entry first."""
    alerted: bool = True
    """False for an event only stored: its object never entered its label's ``alert_zones``."""


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
    """A row as a StoredEvent; ValueError/TypeError when a value is not what Ronda wrote."""
    (event_id, camera, label, subclass, score, box, start, end, last_type, motion_only,
     source, thumbnail, recorded_at, zones, alerted) = row  # fmt: skip
    texts = (event_id, camera, label, subclass, last_type, source)
    if not all(isinstance(text, str) for text in texts):
        raise ValueError("a text column holds something else")
    coordinates = json.loads(box)
    if not isinstance(coordinates, list) or not all(
        isinstance(c, int | float) for c in coordinates
    ):
        raise ValueError(f"box is not a list of numbers: {box!r:.40}")
    return StoredEvent(
        id=event_id,
        camera=camera,
        label=label,
        subclass=subclass,
        score=_number(score, "score"),
        box=coordinates,
        start_time=_number(start, "start_time"),
        end_time=None if end is None else _number(end, "end_time"),
        last_type=last_type,
        motion_only=bool(motion_only),
        source=source,
        thumbnail=Path(thumbnail) if isinstance(thumbnail, str) and thumbnail else None,
        recorded_at=_number(recorded_at, "recorded_at"),
        zones=_zone_names(zones),
        alerted=bool(alerted),
    )


def _zone_names(text: object) -> list[str]:
    names = json.loads(text) if isinstance(text, str) else None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ValueError(f"zones is not a list of names: {text!r:.40}")
    return names


def _number(value: object, name: str) -> float:
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} is not a number: {value!r:.40}")
    return float(value)


class EventStore:
    """Records event updates; see the module docstring."""

    def __init__(self, database: Database, config: StoreConfig) -> None:
        self.database = database
        self.config = config
        self.state_dir = database.path.parent
        self.thumbnail_dir = self.state_dir / "thumbnails"
        self.clips = ClipStore(database)
        self._thumbnails = LastingProblem(
            log,
            logging.WARNING,
            f"cannot save thumbnails in {shown(self.thumbnail_dir)} ({{reason}}): events are "
            "stored without them, alerts still carry theirs (logged once until it works again)",
            f"thumbnails are saved again in {shown(self.thumbnail_dir)}",
        )
        self._history = LastingProblem(
            log,
            logging.WARNING,
            f"cannot record events in {shown(database.path)} ({{reason}}): the local history "
            "misses them, alerts are not affected (logged once until it works again)",
            "event history is recorded again",
        )

    def record(self, update: EventUpdate, thumbnail: bytes | None) -> None:
        path = self._save_thumbnail(update.id, thumbnail) if thumbnail else None
        try:
            self._insert(update, path, has_thumbnail=thumbnail is not None)
        except sqlite3.Error as error:
            self._history.failed(str(error))
            return
        self._history.ok()

    def _save_thumbnail(self, event_id: str, data: bytes) -> Path | None:
        path = self.thumbnail_dir / f"{event_id}.jpg"
        temporary = path.with_suffix(".tmp")
        try:
            self.thumbnail_dir.mkdir(parents=True, exist_ok=True)
            temporary.write_bytes(data)
            temporary.replace(path)
        except OSError as error:
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)
            self._thumbnails.failed(describe_os_error(error))
            return None
        self._thumbnails.ok()
        return path

    def _insert(self, update: EventUpdate, path: Path | None, *, has_thumbnail: bool) -> None:
        now = time.time()
        with self.database.transaction() as db:
            db.execute(
                f"INSERT INTO events({_EVENT_COLUMNS}) VALUES ({', '.join('?' * 15)})"
                " ON CONFLICT(id) DO UPDATE SET label=excluded.label, subclass=excluded.subclass,"
                " score=excluded.score, box=excluded.box, end_time=excluded.end_time,"
                " last_type=excluded.last_type, thumbnail=COALESCE(excluded.thumbnail, thumbnail),"
                " zones=excluded.zones, alerted=MAX(alerted, excluded.alerted)",
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
                    json.dumps(update.zones),
                    int(update.alerted),
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
                    int(has_thumbnail),
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
        rowids = self.database.query(
            f"SELECT rowid FROM events WHERE {' AND '.join(where)}"
            " ORDER BY recorded_at DESC, rowid DESC LIMIT ? OFFSET ?",
            (*params, query.limit, query.offset),
        )
        events = (self._read("rowid", rowid) for (rowid,) in rowids)
        return [event for event in events if event is not None]

    def get(self, event_id: str) -> StoredEvent | None:
        return self._read("id", event_id)

    def _with_clip(self, event: StoredEvent) -> StoredEvent:
        clip = self.clips.for_event(event.id)
        return event if clip is None else replace(event, clip=clip)

    def _read(self, key: str, value: object) -> StoredEvent | None:
        """One event, read on its own so that a damaged row costs only itself (a text that is
        not UTF-8 fails the whole ``fetchall``); a bad row is skipped with a warning."""
        try:
            rows = self.database.query(
                f"SELECT {_EVENT_COLUMNS} FROM events WHERE {key} = ?", (value,)
            )
            return self._with_clip(_event(rows[0])) if rows else None
        except (sqlite3.Error, ValueError, TypeError) as error:
            log.warning(
                "skipping event row %s=%r of %s: %s", key, value, shown(self.database.path), error
            )
            return None

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

    def open_events(self) -> list[StoredEvent]:
        """Events whose ``end`` was never stored, oldest first: after a clean stop there are
        none, after a crash the ones the crashed process had open."""
        rowids = self.database.query(
            "SELECT rowid FROM events WHERE last_type != 'end' ORDER BY recorded_at, rowid"
        )
        events = (self._read("rowid", rowid) for (rowid,) in rowids)
        return [event for event in events if event is not None]

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
        """Apply retention; returns how many events were removed (0 when the database cannot
        be written: retention waits for the next time)."""
        now = time.time() if now is None else now
        cutoff = now - self.config.retention_days * 86400
        try:
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
        except sqlite3.Error as error:
            log.warning("retention not applied to %s: %s", shown(self.database.path), error)
            return 0
        self._remove_files(doomed, clips)
        if doomed:
            log.info("retention: removed %d old event(s) and %d clip(s)", len(doomed), len(clips))
        return len(doomed)

    def _remove_files(self, rows: list[tuple], clips: list[str]) -> None:
        """Thumbnails of removed events, and clips no remaining event shows."""
        for file in clips:
            with contextlib.suppress(OSError, ValueError):
                self.clips.path(file).unlink(missing_ok=True)
        for _, thumbnail in rows:
            if isinstance(thumbnail, str) and thumbnail:
                try:
                    Path(thumbnail).unlink(missing_ok=True)
                except (OSError, ValueError) as error:
                    log.debug("thumbnail %s not removed: %s", thumbnail, error)


def local_midnight(now: float | None = None) -> float:
    """Epoch seconds of the last local midnight: "today" as the owner means it (the stats'
    ``events_today``, ``ronda status``, the web page)."""
    today = datetime.fromtimestamp(time.time() if now is None else now).date()
    return datetime.combine(today, datetime.min.time()).timestamp()

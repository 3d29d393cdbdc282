"""Which clip files exist and which events they show.

A clip is a row in ``clips`` (the file, relative to the state directory, and its state) and one
row per event in ``event_clips`` (where in the file the event starts).  Overlapping events share
one file, so a file goes only when no event points to it any more.

A row is ``recording`` from the moment the recorder opens the file until it is closed; only
``done`` rows are shown as an event's clip.  After a crash, ``recording`` rows are what the
recorder salvages at the next start (``camera.record.recovery``).
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from camera.events import ClipRef
from camera.store.database import Database

RECORDING = "recording"
DONE = "done"
DELETED_COUNTER = "clips_deleted"


@dataclass(frozen=True, slots=True)
class StoredClip:
    """One clip file as the store knows it."""

    file: str
    start_time: float
    state: str
    duration_s: float | None
    size_bytes: int | None
    created_at: float


class ClipStore:
    """The ``clips`` and ``event_clips`` tables; see the module docstring."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.state_dir = database.path.parent

    def path(self, file: str) -> Path:
        return self.state_dir / file

    # -- the recorder's side -------------------------------------------------------------------
    def opened(self, file: str, start_time: float, now: float | None = None) -> None:
        with self.database.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO clips(file, start_time, state, created_at)"
                " VALUES (?, ?, ?, ?)",
                (file, start_time, RECORDING, time.time() if now is None else now),
            )

    def finished(self, file: str, duration_s: float, size_bytes: int) -> None:
        with self.database.transaction() as db:
            db.execute(
                "UPDATE clips SET state = ?, duration_s = ?, size_bytes = ? WHERE file = ?",
                (DONE, round(duration_s, 3), size_bytes, file),
            )

    def forget(self, files: list[str], *, counted: bool = False) -> None:
        """Remove clips (and their events' links) from the store; the caller deletes files."""
        if not files:
            return
        with self.database.transaction() as db:
            self._forget(db, files)
            if counted:
                self.database.add_counter(db, DELETED_COUNTER, len(files))

    @staticmethod
    def _forget(db: sqlite3.Connection, files: list[str]) -> None:
        db.executemany("DELETE FROM clips WHERE file = ?", [(f,) for f in files])
        db.executemany("DELETE FROM event_clips WHERE file = ?", [(f,) for f in files])

    # -- the event store's side ----------------------------------------------------------------
    @staticmethod
    def link(db: sqlite3.Connection, event_id: str, clip: ClipRef) -> None:
        """Inside the event's transaction: the event shows this clip (if it still exists)."""
        db.execute(
            "INSERT OR REPLACE INTO event_clips(event_id, file, offset_s)"
            " SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM clips WHERE file = ?)",
            (event_id, clip.file, clip.offset_s, clip.file),
        )

    @staticmethod
    def unlink_events(db: sqlite3.Connection, event_ids: list[str]) -> list[str]:
        """Inside the pruning transaction: drop the events' links and every finished clip no
        event points to any more; returns those files for the caller to delete."""
        db.executemany("DELETE FROM event_clips WHERE event_id = ?", [(e,) for e in event_ids])
        orphans = [
            row[0]
            for row in db.execute(
                "SELECT file FROM clips WHERE state = ? AND file NOT IN"
                " (SELECT file FROM event_clips)",
                (DONE,),
            )
        ]
        ClipStore._forget(db, orphans)
        return orphans

    # -- reading -------------------------------------------------------------------------------
    def for_event(self, event_id: str) -> ClipRef | None:
        """The event's finished clip, or None (no clip, still recording, or deleted)."""
        rows = self.database.query(
            "SELECT c.file, e.offset_s, c.duration_s, c.size_bytes FROM event_clips e"
            " JOIN clips c ON c.file = e.file WHERE e.event_id = ? AND c.state = ?",
            (event_id, DONE),
        )
        if not rows:
            return None
        file, offset, duration, size = rows[0]
        return ClipRef(file=file, offset_s=offset, duration_s=duration, size_bytes=size)

    def all(self, state: str | None = None) -> list[StoredClip]:
        """Every clip, oldest first (optionally only those in ``state``)."""
        sql = "SELECT file, start_time, state, duration_s, size_bytes, created_at FROM clips"
        params: tuple[object, ...] = ()
        if state is not None:
            sql += " WHERE state = ?"
            params = (state,)
        rows = self.database.query(sql + " ORDER BY created_at, rowid", params)
        return [StoredClip(*row) for row in rows]

    def total_bytes(self) -> int:
        rows = self.database.query("SELECT COALESCE(SUM(size_bytes), 0) FROM clips")
        return int(rows[0][0])

    def deleted(self) -> int:
        """Clips deleted by retention or the disk bound since the state directory was made."""
        return self.database.counter(DELETED_COUNTER)

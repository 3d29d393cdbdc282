"""The local event history: one row per event plus its best thumbnail as a file.

Kept even when MQTT is off (``ronda demo``, ``--no-mqtt``) so that ``ronda events`` can always
answer "what happened?".  Retention is by age and by count; the thumbnail files go with their rows.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from camera.events import EventUpdate
from camera.store.config import StoreConfig
from camera.store.database import Database

log = logging.getLogger(__name__)


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


class EventStore:
    """Records event updates; see the module docstring."""

    def __init__(self, database: Database, config: StoreConfig) -> None:
        self.database = database
        self.config = config
        self.thumbnail_dir = database.path.parent / "thumbnails"
        self.thumbnail_dir.mkdir(parents=True, exist_ok=True)

    def record(self, update: EventUpdate, thumbnail: bytes | None) -> None:
        path: Path | None = None
        if thumbnail:
            path = self.thumbnail_dir / f"{update.id}.jpg"
            temporary = path.with_suffix(".tmp")
            temporary.write_bytes(thumbnail)
            temporary.replace(path)
        with self.database.transaction() as db:
            db.execute(
                "INSERT INTO events(id, camera, label, subclass, score, box, start_time, end_time,"
                " last_type, motion_only, source, thumbnail, recorded_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
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
                    time.time(),
                ),
            )

    def recent(self, limit: int = 20) -> list[StoredEvent]:
        rows = self.database.query(
            "SELECT id, camera, label, subclass, score, box, start_time, end_time, last_type,"
            " motion_only, source, thumbnail FROM events ORDER BY recorded_at DESC, rowid DESC"
            " LIMIT ?",
            (limit,),
        )
        return [
            StoredEvent(
                id=r[0],
                camera=r[1],
                label=r[2],
                subclass=r[3],
                score=r[4],
                box=json.loads(r[5]),
                start_time=r[6],
                end_time=r[7],
                last_type=r[8],
                motion_only=bool(r[9]),
                source=r[10],
                thumbnail=Path(r[11]) if r[11] else None,
            )
            for r in rows
        ]

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
        for _, thumbnail in doomed:
            if thumbnail:
                Path(thumbnail).unlink(missing_ok=True)
        if doomed:
            log.info("retention: removed %d old event(s)", len(doomed))
        return len(doomed)

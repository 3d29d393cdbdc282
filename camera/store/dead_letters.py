"""Dead letters: messages that can never be delivered as they are, kept aside so that they do
not block every alert behind them.

A message lands here when the client refuses it (a topic with ``+``, ``#`` or NUL, too long,
larger than the broker accepts even after shrinking), when the broker refused it (an MQTT 5
PUBACK reason code such as 0x87 "not authorized") ``mqtt.refused_attempts`` times, or when its
outbox row cannot be read (a corrupt row).  Nothing is deleted silently: each dead letter keeps
its topic, payload, how often it was tried and why it failed, until the owner retries it (after
fixing the cause: it goes back to the end of the outbox) or drops it (counted) with
``ronda outbox retry|drop``.  ``ronda status``, ``ronda doctor`` and the stats message show the
count.  At most ``MAX_DEAD_LETTERS`` are kept; beyond that the oldest go, counted.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass

from camera.store.database import Database

log = logging.getLogger(__name__)

MAX_DEAD_LETTERS = 1000
DROPPED_COUNTER = "dead_letters_dropped"


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: int
    topic: str
    """As stored; bytes that are not UTF-8 are shown escaped."""
    size: int
    event_id: str | None
    created_at: float
    attempts: int
    reason: str
    buried_at: float


class DeadLetters:
    """The ``dead_letters`` table.  Rows move in and out of it through ``Outbox.bury`` and
    ``Outbox.revive`` (which keep the outbox's running totals right)."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def count(self) -> int:
        return int(self.database.query("SELECT COUNT(*) FROM dead_letters")[0][0])

    def dropped(self) -> int:
        """Dead letters dropped (by ``ronda outbox drop`` or the cap) since the state began."""
        return self.database.counter(DROPPED_COUNTER)

    def entries(self, limit: int = 1000) -> list[DeadLetter]:
        rows = self.database.query(
            "SELECT id, topic, LENGTH(payload), CAST(event_id AS BLOB), created_at, attempts, "
            "reason, buried_at FROM dead_letters ORDER BY id LIMIT ?",
            (limit,),
        )
        return [
            DeadLetter(
                int(row_id),
                _shown(topic),
                int(size or 0),
                None if event_id is None else _shown(event_id),
                float(created or 0.0),
                int(attempts),
                str(reason),
                float(buried),
            )
            for row_id, topic, size, event_id, created, attempts, reason, buried in rows
        ]

    def latest_reason(self) -> str | None:
        rows = self.database.query("SELECT reason FROM dead_letters ORDER BY id DESC LIMIT 1")
        return str(rows[0][0]) if rows else None

    def existing(self, ids: list[int] | None) -> list[int]:
        """The ids among ``ids`` (all when ``None``) that are dead letters, in order."""
        rows = self.database.query("SELECT id FROM dead_letters ORDER BY id")
        present = [int(row[0]) for row in rows]
        return present if ids is None else [i for i in present if i in set(ids)]

    def drop(self, ids: list[int]) -> int:
        """Delete these dead letters for good (counted); returns how many went."""
        with self.database.transaction() as db:
            gone = _delete(db, ids)
            if gone:
                self.database.add_counter(db, DROPPED_COUNTER, gone)
        if gone:
            log.warning("dropped %d dead letter(s) for good", gone)
        return gone

    def cap(self, db: sqlite3.Connection) -> None:
        """Keep at most ``MAX_DEAD_LETTERS`` (inside the caller's transaction)."""
        (count,) = db.execute("SELECT COUNT(*) FROM dead_letters").fetchone()
        over = int(count) - MAX_DEAD_LETTERS
        if over > 0:
            db.execute(
                "DELETE FROM dead_letters WHERE id IN "
                "(SELECT id FROM dead_letters ORDER BY id LIMIT ?)",
                (over,),
            )
            self.database.add_counter(db, DROPPED_COUNTER, over)
            log.warning("more than %d dead letters: dropped the %d oldest", MAX_DEAD_LETTERS, over)


def _delete(db: sqlite3.Connection, ids: list[int]) -> int:
    gone = 0
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        gone += db.execute(f"DELETE FROM dead_letters WHERE id IN ({marks})", chunk).rowcount
    return gone


def _shown(topic: object) -> str:
    if isinstance(topic, bytes):
        return topic.decode("utf-8", errors="backslashreplace")
    return str(topic)

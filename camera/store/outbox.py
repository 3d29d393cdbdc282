"""The durable outbox: every alert is on disk before it is published, and leaves only when the
broker acknowledged it (QoS 1 PUBACK).

paho keeps unacknowledged messages only in memory, so a broker outage that outlives the process,
or a ``kill -9``, would lose them.  Here a message is a row until its PUBACK arrives; after a
restart every remaining row is published again, oldest first, with its original payload (and so
its original event time).  The outbox is bounded by count and age; anything dropped because of
a bound is counted in the database and logged, never silent.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import dataclass

from pydantic import Field

from camera.section import Section
from camera.store.database import Database

log = logging.getLogger(__name__)

DROPPED_COUNTER = "outbox_dropped"


class OutboxConfig(Section):
    """Bounds of the on-disk outbox."""

    max_messages: int = Field(20_000, ge=100, le=10_000_000)
    max_age_days: float = Field(7.0, gt=0, le=365)


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = False
    event_id: str | None = None


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    seq: int
    topic: str
    payload: bytes
    qos: int
    retain: bool
    event_id: str | None
    created_at: float


class Outbox:
    """FIFO of messages waiting for their broker acknowledgement."""

    def __init__(self, database: Database, config: OutboxConfig) -> None:
        self.database = database
        self.config = config

    def put(self, messages: list[OutgoingMessage], now: float | None = None) -> None:
        """Queue messages atomically, then enforce the bounds."""
        created = time.time() if now is None else now
        with self.database.transaction() as db:
            db.executemany(
                "INSERT INTO outbox(topic, payload, qos, retain, event_id, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(m.topic, m.payload, m.qos, int(m.retain), m.event_id, created) for m in messages],
            )
            self._enforce_bounds(db, created)

    def _enforce_bounds(self, db: sqlite3.Connection, now: float) -> None:
        cutoff = now - self.config.max_age_days * 86400
        aged = db.execute("DELETE FROM outbox WHERE created_at < ?", (cutoff,)).rowcount
        (depth,) = db.execute("SELECT COUNT(*) FROM outbox").fetchone()
        excess = max(0, depth - self.config.max_messages)
        if excess:
            db.execute(
                "DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox ORDER BY seq LIMIT ?)",
                (excess,),
            )
        dropped = aged + excess
        if dropped:
            self.database.add_counter(db, DROPPED_COUNTER, dropped)
            log.warning(
                "outbox full or too old: dropped %d undelivered message(s) (%d by age, %d by "
                "count; limits %d messages, %.1f days)",
                dropped,
                aged,
                excess,
                self.config.max_messages,
                self.config.max_age_days,
            )

    def pending(self, after_seq: int = 0, limit: int = 100) -> list[QueuedMessage]:
        rows = self.database.query(
            "SELECT seq, topic, payload, qos, retain, event_id, created_at FROM outbox "
            "WHERE seq > ? ORDER BY seq LIMIT ?",
            (after_seq, limit),
        )
        return [
            QueuedMessage(seq, topic, bytes(payload), qos, bool(retain), event_id, created)
            for seq, topic, payload, qos, retain, event_id, created in rows
        ]

    def ack(self, seq: int) -> None:
        with self.database.transaction() as db:
            db.execute("DELETE FROM outbox WHERE seq = ?", (seq,))

    def depth(self) -> int:
        return int(self.database.query("SELECT COUNT(*) FROM outbox")[0][0])

    def dropped(self) -> int:
        return self.database.counter(DROPPED_COUNTER)

"""The durable outbox: every alert is on disk before it is published, and leaves only when the
broker acknowledged it (QoS 1 PUBACK).

paho keeps unacknowledged messages only in memory, so a broker outage that outlives the process,
or a ``kill -9``, would lose them.  Here a message is a row until its PUBACK arrives; after a
restart every remaining row is published again, oldest first, with its original payload (and so
its original event time).

The outbox is bounded by count, by bytes (thumbnails are tens of KB and an SD card is small) and
by age; the bounds are applied when the outbox is opened and on every ``put``, so a week-old
alert is not delivered after a long power-off.  Anything dropped because of a bound is counted in
the database and logged as a warning, never silent.

Checking the bounds must not cost the frame loop more as the backlog grows during an outage: the
count and byte totals are kept in memory (one scan at open), and the age check reads only the
oldest rows (``created_at`` sits after the payload, so a full scan would read every thumbnail).
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pydantic import Field

from camera.section import Section
from camera.store.database import Database

log = logging.getLogger(__name__)

DROPPED_COUNTER = "outbox_dropped"
_ACK_CHUNK = 500  # SQLite allows at least 999 parameters per statement


class OutboxConfig(Section):
    """Bounds of the on-disk outbox (the oldest undelivered messages go first)."""

    max_messages: int = Field(20_000, ge=100, le=10_000_000)
    """Messages kept at most; beyond a bound the oldest are dropped, counted and
    logged."""
    max_megabytes: float = Field(200.0, gt=0, le=100_000)
    """Payload bytes kept at most; a thumbnail is 20-60 KB, an event JSON about 400 bytes."""
    max_age_days: float = Field(7.0, gt=0, le=365)
    """Undelivered messages older than this are dropped, counted and logged."""

    @property
    def max_bytes(self) -> int:
        return int(self.max_megabytes * 1_000_000)


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
        ((self._count, self._bytes),) = self.database.query(
            "SELECT COUNT(*), COALESCE(SUM(LENGTH(payload)), 0) FROM outbox"
        )
        try:
            self.enforce_bounds()
        except sqlite3.OperationalError as error:  # a reader (``ronda status``) cannot write
            log.debug("outbox bounds not applied at open: %s", error)

    def put(self, messages: list[OutgoingMessage], now: float | None = None) -> None:
        """Queue messages atomically (an event's JSON and thumbnail together), then bound."""
        created = time.time() if now is None else now
        with self.database.transaction() as db:
            db.executemany(
                "INSERT INTO outbox(topic, payload, qos, retain, event_id, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(m.topic, m.payload, m.qos, int(m.retain), m.event_id, created) for m in messages],
            )
            self._count += len(messages)
            self._bytes += sum(len(m.payload) for m in messages)
            self._enforce_bounds(db, created)

    def enforce_bounds(self, now: float | None = None) -> int:
        """Apply the bounds now (at start-up); returns how many messages were dropped."""
        with self.database.transaction() as db:
            return self._enforce_bounds(db, time.time() if now is None else now)

    def _enforce_bounds(self, db: sqlite3.Connection, now: float) -> int:
        """Runs inside the caller's transaction (so under the database lock)."""
        aged = self._drop_aged(db, now - self.config.max_age_days * 86400)
        over = 0
        if self._count > self.config.max_messages or self._bytes > self.config.max_bytes:
            over = self._drop_oldest(db)
        dropped = aged + over
        if dropped:
            self.database.add_counter(db, DROPPED_COUNTER, dropped)
            log.warning(
                "outbox full or too old: dropped %d undelivered message(s) (%d by age, %d by "
                "size; limits %d messages, %.0f MB, %.1f days)",
                dropped,
                aged,
                over,
                self.config.max_messages,
                self.config.max_megabytes,
                self.config.max_age_days,
            )
        return dropped

    def _drop_aged(self, db: sqlite3.Connection, cutoff: float) -> int:
        """Delete rows created before ``cutoff``, reading from the oldest until a young one
        (rows are created in ``seq`` order; a clock stepped back only delays a drop)."""
        return self._drop_while(db, lambda _length, created: created < cutoff)

    def _drop_oldest(self, db: sqlite3.Connection) -> int:
        """Delete the oldest rows until both the count and the byte bound hold."""
        count, size = self._count, self._bytes

        def over(length: int, _created: float) -> bool:
            nonlocal count, size
            if count <= self.config.max_messages and size <= self.config.max_bytes:
                return False
            count -= 1
            size -= length
            return True

        return self._drop_while(db, over)

    def _drop_while(self, db: sqlite3.Connection, doomed: Callable[[int, float], bool]) -> int:
        last_seq = None
        dropped = removed_bytes = 0
        rows = db.execute("SELECT seq, LENGTH(payload), created_at FROM outbox ORDER BY seq")
        for seq, length, created in rows:
            if not doomed(length, created):
                break
            last_seq = seq
            dropped += 1
            removed_bytes += length
        if last_seq is not None:
            db.execute("DELETE FROM outbox WHERE seq <= ?", (last_seq,))
            self._count -= dropped
            self._bytes -= removed_bytes
        return dropped

    def pending(self, after_seq: int = 0, limit: int = 100) -> list[QueuedMessage]:
        """The oldest messages with ``seq > after_seq``, in queue order."""
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
        self.ack_many([seq])

    def ack_many(self, seqs: Iterable[int]) -> None:
        """Forget acknowledged messages in one transaction: one fsync for a burst of PUBACKs,
        two statements per 500 rows (the drain of a backlog is bound by this)."""
        pending = list(seqs)
        if not pending:
            return
        with self.database.transaction() as db:
            for start in range(0, len(pending), _ACK_CHUNK):
                chunk = pending[start : start + _ACK_CHUNK]
                marks = ",".join("?" * len(chunk))
                count, size = db.execute(
                    "SELECT COUNT(*), COALESCE(SUM(LENGTH(payload)), 0) FROM outbox "
                    f"WHERE seq IN ({marks})",
                    chunk,
                ).fetchone()
                db.execute(f"DELETE FROM outbox WHERE seq IN ({marks})", chunk)
                self._count -= count
                self._bytes -= size

    def queued_bytes(self) -> int:
        """Payload bytes queued, as the byte bound counts them (kept in memory, no query)."""
        return self._bytes

    def depth(self) -> int:
        return int(self.database.query("SELECT COUNT(*) FROM outbox")[0][0])

    def dropped(self) -> int:
        """Messages dropped by a bound since the state directory was created."""
        return self.database.counter(DROPPED_COUNTER)

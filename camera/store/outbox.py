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

A full disk does not stop alerts while the outbox can still write (SQLite reuses the pages of
delivered rows).  When it cannot, the new alerts are held in memory, in order, up to
``MAX_HELD_BYTES``, and written as soon as the disk has room again (every ``put`` and
``write_held`` tries); the problem and the recovery are each logged once.  Only the outbox's
own failure stops Ronda, with one line (:class:`OutboxError`): more held than the bound, held
alerts still unwritten at exit, or a database that refuses writes for another reason.
Acknowledgements that cannot be deleted on a full disk are kept and deleted later (until then
the rows count as queued: a crash re-sends them, never loses them).
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from pydantic import Field

from camera.files import shown
from camera.section import Section
from camera.store.database import Database
from camera.store.dead_letters import DeadLetters
from camera.store.trouble import Trouble

log = logging.getLogger(__name__)

DROPPED_COUNTER = "outbox_dropped"
OMITTED_COUNTER = "thumbnails_omitted"
_ACK_CHUNK = 500  # SQLite allows at least 999 parameters per statement
MAX_HELD_BYTES = 32_000_000
"""Alerts held in memory while the disk is full: about 800 events with thumbnails, a few hours
of a busy camera; a Pi has the memory, and beyond that the disk is not coming back soon."""


class OutboxError(Exception):
    """The outbox cannot keep alerts (exit code 1); ``str()`` is one user-facing line."""


def is_disk_full(error: sqlite3.Error) -> bool:
    """SQLite's "database or disk is full" and the I/O errors a failed write becomes: the
    condition a full disk causes, that goes away when space returns."""
    code = getattr(error, "sqlite_errorcode", None)
    return code == sqlite3.SQLITE_FULL or (code is not None and code & 0xFF == sqlite3.SQLITE_IOERR)


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
        self.dead = DeadLetters(database)
        self._reported: set[str] = set()  # why rows were unreadable, logged once each
        ((self._count, self._bytes),) = self.database.query(
            "SELECT COUNT(*), COALESCE(SUM(LENGTH(payload)), 0) FROM outbox"
        )
        self._held: list[tuple[list[OutgoingMessage], float]] = []
        self._held_bytes = 0
        self._disk = Trouble(
            log,
            logging.ERROR,
            f"cannot queue alerts in {shown(database.path)} ({{reason}}): holding them in memory "
            f"(up to {MAX_HELD_BYTES // 1_000_000} MB) until there is room; free some space",
            "the disk has room again: alerts are queued on disk as before",
        )
        self._unflushed_acks: list[int] = []
        try:
            self.enforce_bounds()
        except sqlite3.OperationalError as error:  # a reader (``ronda status``) cannot write
            log.debug("outbox bounds not applied at open: %s", error)

    def put(self, messages: list[OutgoingMessage], now: float | None = None) -> None:
        """Queue messages atomically (an event's JSON and thumbnail together), then bound.

        On a full disk they are held in memory and written later (see the module docstring);
        raises :class:`OutboxError` when that is no longer possible."""
        created = time.time() if now is None else now
        self._held.append((messages, created))
        self._held_bytes += sum(len(m.payload) for m in messages)
        if not self.write_held() and self._held_bytes > MAX_HELD_BYTES:
            raise OutboxError(
                f"cannot queue alerts in {shown(self.database.path)} ({self._disk.reason}) "
                f"and more than {MAX_HELD_BYTES // 1_000_000} MB of them are waiting in memory: "
                "free some space and restart Ronda"
            )

    def held(self) -> int:
        """Messages waiting in memory for the disk to have room."""
        return sum(len(messages) for messages, _ in self._held)

    def write_held(self) -> bool:
        """Write the held messages, oldest first; True when none is left waiting."""
        while self._held:
            messages, created = self._held[0]
            try:
                self._write(messages, created)
            except sqlite3.Error as error:
                if not is_disk_full(error):
                    raise OutboxError(
                        f"cannot queue alerts in {shown(self.database.path)}: {error}"
                    ) from None
                self._disk_full(str(error))
                return False
            self._held.pop(0)
            self._held_bytes -= sum(len(m.payload) for m in messages)
        self._disk.ok()
        return True

    def _disk_full(self, reason: str) -> None:
        self._disk.failed(reason)
        with suppress(sqlite3.Error):  # a shorter WAL may be all the room needed
            self.database.query("PRAGMA wal_checkpoint(TRUNCATE)")

    def unwritten(self) -> str | None:
        """At exit: why held alerts could not be written, or None if none are held."""
        if self.write_held():
            return None
        return (
            f"{self.held()} alert message(s) could not be written to "
            f"{shown(self.database.path)} ({self._disk.reason}) and are lost; free some space"
        )

    def _write(self, messages: list[OutgoingMessage], created: float) -> None:
        with self.database.lock:
            counts = (self._count, self._bytes)
            try:
                with self.database.transaction() as db:
                    db.executemany(
                        "INSERT INTO outbox(topic, payload, qos, retain, event_id, created_at) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        [
                            (m.topic, m.payload, m.qos, int(m.retain), m.event_id, created)
                            for m in messages
                        ],
                    )
                    self._count += len(messages)
                    self._bytes += sum(len(m.payload) for m in messages)
                    self._enforce_bounds(db, created)
            except BaseException:
                self._count, self._bytes = counts  # nothing was committed
                raise

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
        """The oldest messages with ``seq > after_seq``, in queue order.  A row that cannot be
        read as a message (a corrupt database, a foreign writer) is moved to the dead letters
        on the spot, so it never blocks the rows behind it."""
        rows = self.database.query(
            f"SELECT {_ROW_COLUMNS} FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?",
            (after_seq, limit),
        )
        messages = []
        for row in rows:
            decoded = _decode(row)
            if isinstance(decoded, str):
                reason = f"unreadable outbox row: {decoded}"
                self.bury(int(row[0]), reason, attempts=0)
                if reason not in self._reported:
                    self._reported.add(reason)
                    log.warning("moved an outbox row to the dead letters (%s)", reason)
            else:
                messages.append(decoded)
        return messages

    def get(self, seq: int) -> QueuedMessage | None:
        """Row ``seq`` if it is still queued and readable (a refused message tried again)."""
        rows = self.database.query(f"SELECT {_ROW_COLUMNS} FROM outbox WHERE seq = ?", (seq,))
        decoded = _decode(rows[0]) if rows else None
        return decoded if isinstance(decoded, QueuedMessage) else None

    def bury(self, seq: int, reason: str, *, attempts: int) -> bool:
        """Move row ``seq`` to the dead letters with why; False if it is no longer queued."""
        with self.database.transaction() as db:
            found = db.execute(
                "SELECT COALESCE(LENGTH(payload), 0) FROM outbox WHERE seq = ?", (seq,)
            ).fetchone()
            if found is None:
                return False
            db.execute(
                "INSERT INTO dead_letters(topic, payload, qos, retain, event_id, created_at, "
                "attempts, reason, buried_at) SELECT CAST(COALESCE(topic, '') AS BLOB), "
                "CAST(COALESCE(payload, X'') AS BLOB), COALESCE(qos, 1), COALESCE(retain, 0), "
                "CAST(event_id AS TEXT), COALESCE(created_at, 0), ?, ?, ? FROM outbox "
                "WHERE seq = ?",
                (attempts, reason, time.time(), seq),
            )
            db.execute("DELETE FROM outbox WHERE seq = ?", (seq,))
            self._count -= 1
            self._bytes -= int(found[0])
            self.dead.cap(db)
        return True

    def discard(self, seq: int) -> None:
        """Remove a thumbnail that will not be published (larger than the broker takes, even
        shrunk; its event JSON said so), counted as ``thumbnails_omitted``."""
        with self.database.transaction() as db:
            found = db.execute(
                "SELECT COALESCE(LENGTH(payload), 0) FROM outbox WHERE seq = ?", (seq,)
            ).fetchone()
            if found is None:
                return
            db.execute("DELETE FROM outbox WHERE seq = ?", (seq,))
            self._count -= 1
            self._bytes -= int(found[0])
            self.database.add_counter(db, OMITTED_COUNTER, 1)

    def omitted(self) -> int:
        """Thumbnails left out because the broker takes no packet that large."""
        return self.database.counter(OMITTED_COUNTER)

    def put_dead(self, messages: list[OutgoingMessage], reason: str) -> None:
        """Keep messages that can never be published (a topic MQTT forbids) as dead letters
        right away: visible and retryable, never in the way of the queue."""
        now = time.time()
        with self.database.transaction() as db:
            db.executemany(
                "INSERT INTO dead_letters(topic, payload, qos, retain, event_id, created_at, "
                "attempts, reason, buried_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)",
                [_dead_row(m, reason, now) for m in messages],
            )
            self.dead.cap(db)

    def revive(self, ids: list[int]) -> int:
        """Move dead letters back to the end of the outbox (the owner fixed the cause);
        returns how many.  They are tried afresh, after everything already queued."""
        now = time.time()
        moved = 0
        with self.database.transaction() as db:
            for dead_id in ids:
                row = db.execute(
                    "SELECT topic, payload, qos, retain, event_id FROM dead_letters WHERE id = ?",
                    (dead_id,),
                ).fetchone()
                if row is None:
                    continue
                topic, payload, qos, retain, event_id = row
                text = (
                    topic.decode("utf-8", "surrogateescape") if isinstance(topic, bytes) else topic
                )
                db.execute(
                    "INSERT INTO outbox(topic, payload, qos, retain, event_id, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (text, payload, qos, retain, event_id, now),
                )
                db.execute("DELETE FROM dead_letters WHERE id = ?", (dead_id,))
                self._count += 1
                self._bytes += len(payload)
                moved += 1
        if moved:
            log.info("moved %d dead letter(s) back to the outbox", moved)
        return moved

    def ack(self, seq: int) -> None:
        self.ack_many([seq])

    def ack_many(self, seqs: Iterable[int]) -> None:
        """Forget acknowledged messages in one transaction: one fsync for a burst of PUBACKs,
        two statements per 500 rows (the drain of a backlog is bound by this)."""
        pending = self._unflushed_acks + list(seqs)
        if not pending:
            return
        try:
            self._delete(pending)
        except sqlite3.Error as error:
            if not is_disk_full(error):
                raise
            if not self._unflushed_acks:
                log.warning(
                    "cannot delete delivered alerts from %s (%s); deleting them later",
                    shown(self.database.path),
                    error,
                )
            self._unflushed_acks = pending
            return
        self._unflushed_acks = []

    def _delete(self, seqs: list[int]) -> None:
        with self.database.lock:
            counts = (self._count, self._bytes)
            try:
                with self.database.transaction() as db:
                    for start in range(0, len(seqs), _ACK_CHUNK):
                        chunk = seqs[start : start + _ACK_CHUNK]
                        marks = ",".join("?" * len(chunk))
                        count, size = db.execute(
                            "SELECT COUNT(*), COALESCE(SUM(LENGTH(payload)), 0) FROM outbox "
                            f"WHERE seq IN ({marks})",
                            chunk,
                        ).fetchone()
                        db.execute(f"DELETE FROM outbox WHERE seq IN ({marks})", chunk)
                        self._count -= count
                        self._bytes -= size
            except BaseException:
                self._count, self._bytes = counts  # nothing was committed
                raise

    def queued_bytes(self) -> int:
        """Payload bytes queued, as the byte bound counts them (kept in memory, no query)."""
        return self._bytes

    def depth(self) -> int:
        return int(self.database.query("SELECT COUNT(*) FROM outbox")[0][0])

    def dropped(self) -> int:
        """Messages dropped by a bound since the state directory was created."""
        return self.database.counter(DROPPED_COUNTER)


def _dead_row(message: OutgoingMessage, reason: str, now: float) -> tuple[object, ...]:
    topic = message.topic.encode("utf-8", "surrogateescape")
    payload, qos, retain = message.payload, message.qos, int(message.retain)
    return (topic, payload, qos, retain, message.event_id, now, reason, now)


# topic and event_id as bytes: a TEXT value that is not UTF-8 would fail the whole query.
_ROW_COLUMNS = (
    "seq, typeof(topic), CAST(topic AS BLOB), payload, qos, retain, CAST(event_id AS BLOB), "
    "created_at"
)
_Row = tuple[Any, ...]


def _decode(row: _Row) -> QueuedMessage | str:
    """The message in an outbox row, or what is wrong with the row."""
    seq, topic_type, topic_bytes, payload, qos, retain, event_id, created = row
    if topic_type != "text" or not topic_bytes:
        return f"its topic is {topic_type}, not text"
    try:
        topic = bytes(topic_bytes).decode("utf-8")
    except UnicodeDecodeError:
        return "its topic is not UTF-8 text"
    if isinstance(payload, str):
        payload = payload.encode("utf-8", "surrogateescape")
    if not isinstance(payload, bytes):
        return f"its payload is {type(payload).__name__}, not bytes"
    if qos not in (0, 1, 2) or retain not in (0, 1):
        return f"QoS {qos!r} / retain {retain!r} are not valid"
    if not isinstance(created, (int, float)):
        created = time.time()  # only the age bound reads it: the row stays deliverable
    event = bytes(event_id).decode("utf-8", "replace") if event_id is not None else None
    return QueuedMessage(int(seq), topic, payload, int(qos), bool(retain), event, float(created))

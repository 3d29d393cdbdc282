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
from collections.abc import Iterable
from contextlib import suppress

from pydantic import Field

from camera.files import shown
from camera.section import Section
from camera.store import outbox_rows as rows
from camera.store.database import Database
from camera.store.dead_letters import DeadLetters
from camera.store.lasting_problem import LastingProblem
from camera.store.outbox_rows import OutgoingMessage, QueuedMessage

log = logging.getLogger(__name__)

DROPPED_COUNTER = "outbox_dropped"
OMITTED_COUNTER = "thumbnails_omitted"
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


__all__ = ["Outbox", "OutboxConfig", "OutboxError", "OutgoingMessage", "QueuedMessage"]


class Outbox:
    """FIFO of messages waiting for their broker acknowledgement (the SQL: ``outbox_rows``)."""

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
        self._disk = LastingProblem(
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
                    self._counted(rows.insert(db, messages, created), sign=1)
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
        config = self.config
        aged = self._counted(rows.drop_aged(db, now - config.max_age_days * 86400))
        over = 0
        if self._count > config.max_messages or self._bytes > config.max_bytes:
            found = rows.drop_oldest(
                db, self._count, self._bytes, config.max_messages, config.max_bytes
            )
            over = self._counted(found)
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

    def _counted(self, change: rows.Change, sign: int = -1) -> int:
        """Keep the totals of rows added (``sign`` 1) or removed; returns the rows."""
        count, size = change
        self._count += sign * count
        self._bytes += sign * size
        return count

    def pending(self, after_seq: int = 0, limit: int = 100) -> list[QueuedMessage]:
        """The oldest messages with ``seq > after_seq``, in queue order.  A row that cannot be
        read as a message (a corrupt database, a foreign writer) is moved to the dead letters
        on the spot, so it never blocks the rows behind it."""
        found = self.database.query(
            f"SELECT {rows.ROW_COLUMNS} FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?",
            (after_seq, limit),
        )
        messages = []
        for row in found:
            decoded = rows.decode(row)
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
        found = self.database.query(f"SELECT {rows.ROW_COLUMNS} FROM outbox WHERE seq = ?", (seq,))
        decoded = rows.decode(found[0]) if found else None
        return decoded if isinstance(decoded, QueuedMessage) else None

    def bury(self, seq: int, reason: str, *, attempts: int) -> bool:
        """Move row ``seq`` to the dead letters with why; False if it is no longer queued."""
        with self.database.transaction() as db:
            size = rows.bury(db, seq, reason, attempts)
            if size is None:
                return False
            self._counted((1, size))
            self.dead.cap(db)
        return True

    def discard(self, seq: int) -> None:
        """Remove a thumbnail that will not be published (larger than the broker takes, even
        shrunk; its event JSON said so), counted as ``thumbnails_omitted``."""
        with self.database.transaction() as db:
            size = rows.remove(db, seq)
            if size is not None:
                self._counted((1, size))
                self.database.add_counter(db, OMITTED_COUNTER, 1)

    def omitted(self) -> int:
        """Thumbnails left out because the broker takes no packet that large."""
        return self.database.counter(OMITTED_COUNTER)

    def put_dead(self, messages: list[OutgoingMessage], reason: str) -> None:
        """Keep messages that can never be published (a topic MQTT forbids) as dead letters
        right away: visible and retryable, never in the way of the queue."""
        with self.database.transaction() as db:
            rows.insert_dead(db, messages, reason)
            self.dead.cap(db)

    def revive(self, ids: list[int]) -> int:
        """Move dead letters back to the end of the outbox (the owner fixed the cause);
        returns how many.  They are tried afresh, after everything already queued."""
        with self.database.transaction() as db:
            moved = self._counted(rows.revive(db, ids), sign=1)
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
                    self._counted(rows.delete(db, seqs))
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

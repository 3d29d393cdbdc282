"""The outbox table's rows in SQL: written, read, dropped, buried, revived and deleted.

Each function runs inside the caller's transaction and returns what it changed (rows, payload
bytes), so ``camera.store.outbox.Outbox`` keeps its count and byte totals in memory without a
scan (the bounds are checked on every ``put``, and a scan would read every thumbnail).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_ACK_CHUNK = 500  # SQLite allows at least 999 parameters per statement
_DEAD_INSERT = (
    "INSERT INTO dead_letters(topic, payload, qos, retain, event_id, created_at, "
    "attempts, reason, buried_at) "
)


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


Change = tuple[int, int]
"""(rows, payload bytes) a statement added or removed."""


def insert(db: sqlite3.Connection, messages: list[OutgoingMessage], created: float) -> Change:
    db.executemany(
        "INSERT INTO outbox(topic, payload, qos, retain, event_id, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [(m.topic, m.payload, m.qos, int(m.retain), m.event_id, created) for m in messages],
    )
    return len(messages), sum(len(m.payload) for m in messages)


def drop_while(db: sqlite3.Connection, doomed: Callable[[int, float], bool]) -> Change:
    """Delete rows from the oldest while ``doomed(payload length, created_at)`` says so."""
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
    return dropped, removed_bytes


def drop_aged(db: sqlite3.Connection, cutoff: float) -> Change:
    """Delete rows created before ``cutoff``, reading from the oldest until a young one
    (rows are created in ``seq`` order; a clock stepped back only delays a drop)."""
    return drop_while(db, lambda _length, created: created < cutoff)


def drop_oldest(
    db: sqlite3.Connection, count: int, size: int, max_count: int, max_bytes: int
) -> Change:
    """Delete the oldest rows until ``count`` rows of ``size`` bytes are within both bounds."""

    def over(length: int, _created: float) -> bool:
        nonlocal count, size
        if count <= max_count and size <= max_bytes:
            return False
        count -= 1
        size -= length
        return True

    return drop_while(db, over)


def remove(db: sqlite3.Connection, seq: int) -> int | None:
    """Delete row ``seq``; its payload bytes, or None if it is no longer queued."""
    found = db.execute(
        "SELECT COALESCE(LENGTH(payload), 0) FROM outbox WHERE seq = ?", (seq,)
    ).fetchone()
    if found is None:
        return None
    db.execute("DELETE FROM outbox WHERE seq = ?", (seq,))
    return int(found[0])


def bury(db: sqlite3.Connection, seq: int, reason: str, attempts: int) -> int | None:
    """Move row ``seq`` to the dead letters with why; its payload bytes, or None if gone."""
    db.execute(
        _DEAD_INSERT + "SELECT CAST(COALESCE(topic, '') AS BLOB), "
        "CAST(COALESCE(payload, X'') AS BLOB), COALESCE(qos, 1), COALESCE(retain, 0), "
        "CAST(event_id AS TEXT), COALESCE(created_at, 0), ?, ?, ? FROM outbox WHERE seq = ?",
        (attempts, reason, time.time(), seq),
    )
    return remove(db, seq)


def insert_dead(db: sqlite3.Connection, messages: list[OutgoingMessage], reason: str) -> None:
    """Messages that can never be published, straight into the dead letters."""
    now = time.time()
    db.executemany(
        _DEAD_INSERT + "VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)",
        [_dead_row(m, reason, now) for m in messages],
    )


def _dead_row(message: OutgoingMessage, reason: str, now: float) -> tuple[object, ...]:
    topic = message.topic.encode("utf-8", "surrogateescape")
    payload, qos, retain = message.payload, message.qos, int(message.retain)
    return (topic, payload, qos, retain, message.event_id, now, reason, now)


def revive(db: sqlite3.Connection, ids: list[int]) -> Change:
    """Move dead letters ``ids`` back to the end of the outbox, created now."""
    now = time.time()
    moved = moved_bytes = 0
    for dead_id in ids:
        row = db.execute(
            "SELECT topic, payload, qos, retain, event_id FROM dead_letters WHERE id = ?",
            (dead_id,),
        ).fetchone()
        if row is None:
            continue
        topic, payload, qos, retain, event_id = row
        text = topic.decode("utf-8", "surrogateescape") if isinstance(topic, bytes) else topic
        db.execute(
            "INSERT INTO outbox(topic, payload, qos, retain, event_id, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (text, payload, qos, retain, event_id, now),
        )
        db.execute("DELETE FROM dead_letters WHERE id = ?", (dead_id,))
        moved += 1
        moved_bytes += len(payload)
    return moved, moved_bytes


def delete(db: sqlite3.Connection, seqs: list[int]) -> Change:
    """Delete acknowledged rows: two statements per 500 rows."""
    count = size = 0
    for start in range(0, len(seqs), _ACK_CHUNK):
        chunk = seqs[start : start + _ACK_CHUNK]
        marks = ",".join("?" * len(chunk))
        found, found_bytes = db.execute(
            "SELECT COUNT(*), COALESCE(SUM(LENGTH(payload)), 0) FROM outbox "
            f"WHERE seq IN ({marks})",
            chunk,
        ).fetchone()
        db.execute(f"DELETE FROM outbox WHERE seq IN ({marks})", chunk)
        count += found
        size += found_bytes
    return count, size


# topic and event_id as bytes: a TEXT value that is not UTF-8 would fail the whole query.
ROW_COLUMNS = (
    "seq, typeof(topic), CAST(topic AS BLOB), payload, qos, retain, CAST(event_id AS BLOB), "
    "created_at"
)
Row = tuple[Any, ...]


def decode(row: Row) -> QueuedMessage | str:
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

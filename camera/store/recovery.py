"""Replace a damaged state database with a fresh one, keeping what can be read of the alerts.

Two tables in the file matter after a crash: the outbox (alerts not yet acknowledged by the
broker) and the dead letters (alerts the broker refused, kept for the owner to retry once the
cause is fixed).  The event history is a convenience (``ronda events``) and the thumbnails stay
on disk beside it.  So recovery, in an order that never loses the damaged file:

1. read the rows of both tables that can still be read, in key order, skipping damaged
   stretches;
2. write them into a new database under a temporary name (a full disk fails here, leaving the
   damaged file in place for the next attempt);
3. move the damaged file (with its ``-wal``/``-shm``) aside as ``<name>.damaged-<timestamp>``;
4. move the new database into place;

and say what was done in one warning line.
"""

from __future__ import annotations

import logging
import math
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import closing, suppress
from dataclasses import dataclass
from pathlib import Path

from camera.files import describe_os_error, shown
from camera.store.errors import DatabaseError
from camera.store.schema import CORE_COLUMNS

log = logging.getLogger("camera.store")

OUTBOX_COLUMNS = ("seq", "topic", "payload", "qos", "retain", "event_id", "created_at")
DEAD_LETTER_COLUMNS = (
    "id",
    "topic",
    "payload",
    "qos",
    "retain",
    "event_id",
    "created_at",
    "attempts",
    "reason",
    "buried_at",
)
_SIDE_FILES = ("-wal", "-shm")

Row = tuple[object, ...]


@dataclass(frozen=True, slots=True)
class Salvage:
    rows: list[Row]
    skipped: bool
    """Some rows could not be read (damaged pages, invalid values)."""


@dataclass(frozen=True, slots=True)
class Table:
    """A table recovery carries over: its integer key (rows are read in its order), the
    columns copied, the ones without which the table is not Ronda's, and the check that turns
    a read row into one that can be written again (None: the row is not what Ronda wrote)."""

    name: str
    columns: tuple[str, ...]
    needed: frozenset[str]
    valid: Callable[[Row], Row | None]

    @property
    def key(self) -> str:
        return self.columns[0]


def recover(path: Path, reason: str, schema: str) -> Path:
    """Do the steps of the module docstring; returns where the damaged file went."""
    queued = salvage_table(path, OUTBOX)
    dead = salvage_table(path, DEAD_LETTERS)
    fresh = path.with_name(f"{path.name}.new")
    try:
        _write_fresh(fresh, schema, {OUTBOX: queued.rows, DEAD_LETTERS: dead.rows})
    except (OSError, sqlite3.Error) as error:
        _remove(fresh)
        text = describe_os_error(error) if isinstance(error, OSError) else str(error)
        raise DatabaseError(
            f"state database {shown(path)} is damaged ({reason}) and a new one cannot be "
            f"written beside it: {text}"
        ) from None
    aside = _aside_name(path)
    try:
        for suffix in _SIDE_FILES:
            side = path.with_name(path.name + suffix)
            if side.exists():
                os.replace(side, aside.with_name(aside.name + suffix))
        os.replace(path, aside)
        os.replace(fresh, path)
    except OSError as error:
        _remove(fresh)
        raise DatabaseError(
            f"state database {shown(path)} is damaged ({reason}) and cannot be moved aside: "
            f"{describe_os_error(error)}"
        ) from None
    lost = "; some rows could not be read" if queued.skipped or dead.skipped else ""
    letters = f" and {len(dead.rows)} dead letter(s)" if dead.rows else ""
    log.warning(
        "state database %s was damaged (%s): moved it to %s and started a new one; carried "
        "over %d queued alert message(s)%s%s",
        shown(path),
        reason,
        aside.name,
        len(queued.rows),
        letters,
        lost,
    )
    return aside


def salvage_table(path: Path, table: Table) -> Salvage:
    """The readable rows of ``table`` in the database at ``path`` (opened read-only), in key
    order; no rows and nothing skipped when the table is missing or is not Ronda's."""
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except (sqlite3.Error, OSError, ValueError):
        return Salvage([], skipped=True)
    with closing(connection):
        try:
            columns = {row[1] for row in connection.execute(f"PRAGMA table_info({table.name})")}
        except sqlite3.DatabaseError:
            return Salvage([], skipped=True)
        if not table.needed <= columns:
            return Salvage([], skipped=False)  # no such table, or someone else's
        select = ", ".join(c if c in columns else "NULL" for c in table.columns)
        rows: list[Row] = []
        skipped = False
        for row in _rows(connection, table, select):
            if row is None:
                skipped = True
            elif (valid := table.valid(row)) is not None:
                rows.append(valid)
            else:
                skipped = True
        return Salvage(rows, skipped)


def _rows(connection: sqlite3.Connection, table: Table, select: str) -> Iterator[Row | None]:
    """Rows in key order, read one by one so that every row before a damaged page is kept;
    None marks a stretch that could not be read, after which the scan resumes at the next
    key that can be reached."""
    after = 0  # keys are AUTOINCREMENT from 1
    while True:
        try:
            cursor = connection.execute(
                f"SELECT {select} FROM {table.name} WHERE {table.key} > ? ORDER BY {table.key}",
                (after,),
            )
            for row in cursor:
                yield row
                after = int(row[0])
            return
        except sqlite3.DatabaseError:
            yield None
            resumed = _next_reachable(connection, table, after)
            if resumed is None:
                return
            after = resumed - 1


def _next_reachable(connection: sqlite3.Connection, table: Table, after: int) -> int | None:
    """The first key after a damaged stretch: probe close ahead first (a page holds a few
    rows), then ever further."""
    query = f"SELECT {table.key} FROM {table.name} WHERE {table.key} > ? ORDER BY {table.key}"
    step = 1
    while after + step < 2**63:
        with suppress(sqlite3.DatabaseError):
            found = connection.execute(f"{query} LIMIT 1", (after + step,)).fetchone()
            return None if found is None else int(found[0])
        step = step + 1 if step < 16 else step * 2
    return None


def _as_bytes(value: object) -> bytes | None:
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    return value if isinstance(value, bytes) else None


def _finite(value: object) -> float | None:
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def _valid_queued(row: Row) -> Row | None:
    """The row as it can be queued again, or None when a value is not what the outbox wrote."""
    seq, topic, payload, qos, retain, event_id, created_at = row
    if not isinstance(seq, int) or not isinstance(topic, str) or not topic:
        return None
    payload = _as_bytes(payload)
    created_at = _finite(created_at)
    if payload is None or qos not in (0, 1, 2) or retain not in (0, 1) or created_at is None:
        return None
    if event_id is not None and not isinstance(event_id, str):
        event_id = None
    return (seq, topic, payload, qos, retain, event_id, created_at)


def _valid_dead(row: Row) -> Row | None:
    """A dead letter as it can be kept again.  Its topic may be what MQTT refuses (that can be
    why it died), so only its type is checked: the owner decides with ``ronda outbox``."""
    key, topic, payload, qos, retain, event_id, created_at, attempts, reason, buried_at = row
    topic, payload = _as_bytes(topic), _as_bytes(payload)
    created_at, buried_at = _finite(created_at), _finite(buried_at)
    if not isinstance(key, int) or topic is None or payload is None:
        return None
    if qos not in (0, 1, 2) or retain not in (0, 1) or not isinstance(attempts, int):
        return None
    if created_at is None or buried_at is None or not isinstance(reason, str):
        return None
    if event_id is not None and not isinstance(event_id, str):
        event_id = None
    return (key, topic, payload, qos, retain, event_id, created_at, attempts, reason, buried_at)


OUTBOX = Table("outbox", OUTBOX_COLUMNS, frozenset(CORE_COLUMNS["outbox"]), _valid_queued)
DEAD_LETTERS = Table(
    "dead_letters",
    DEAD_LETTER_COLUMNS,
    frozenset(DEAD_LETTER_COLUMNS) - {"event_id"},
    _valid_dead,
)


def _write_fresh(path: Path, schema: str, tables: dict[Table, list[Row]]) -> None:
    """A complete database in one file (rollback journal: nothing left in a ``-wal`` when it is
    renamed into place; ``Database`` switches it to WAL when it opens it)."""
    _remove(path)
    with closing(sqlite3.connect(str(path), isolation_level=None)) as connection:
        connection.execute("PRAGMA synchronous=FULL")
        connection.executescript(schema)
        connection.execute("BEGIN IMMEDIATE")
        for table, rows in tables.items():
            marks = ", ".join("?" for _ in table.columns)
            connection.executemany(
                f"INSERT INTO {table.name}({', '.join(table.columns)}) VALUES ({marks})", rows
            )
        connection.execute("COMMIT")


def _aside_name(path: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    candidate = path.with_name(f"{path.name}.damaged-{stamp}")
    serial = 1
    while candidate.exists():
        serial += 1
        candidate = path.with_name(f"{path.name}.damaged-{stamp}-{serial}")
    return candidate


def _remove(path: Path) -> None:
    with suppress(FileNotFoundError):
        path.unlink()

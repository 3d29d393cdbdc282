"""Replace a damaged state database with a fresh one, keeping what can be read of the outbox.

The outbox is the one thing in the file that matters after a crash: alerts not yet acknowledged
by the broker.  The event history is a convenience (``ronda events``) and the thumbnails stay on
disk beside it.  So recovery, in an order that never loses the damaged file:

1. read the outbox rows that can still be read, in ``seq`` order, skipping damaged stretches;
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
from collections.abc import Iterator
from contextlib import closing, suppress
from dataclasses import dataclass
from pathlib import Path

from camera.files import describe_os_error, shown
from camera.store.database import CORE_COLUMNS, DatabaseError

log = logging.getLogger("camera.store")

OUTBOX_COLUMNS = ("seq", "topic", "payload", "qos", "retain", "event_id", "created_at")
_SIDE_FILES = ("-wal", "-shm")


@dataclass(frozen=True, slots=True)
class Salvage:
    rows: list[tuple[object, ...]]
    skipped: bool
    """Some rows could not be read (damaged pages, invalid values)."""


def recover(path: Path, reason: str, schema: str) -> Path:
    """Do the steps of the module docstring; returns where the damaged file went."""
    salvage = salvage_outbox(path)
    fresh = path.with_name(f"{path.name}.new")
    try:
        _write_fresh(fresh, schema, salvage.rows)
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
    lost = "; some rows could not be read" if salvage.skipped else ""
    log.warning(
        "state database %s was damaged (%s): moved it to %s and started a new one; carried "
        "over %d queued alert message(s)%s",
        shown(path),
        reason,
        aside.name,
        len(salvage.rows),
        lost,
    )
    return aside


def salvage_outbox(path: Path) -> Salvage:
    """The readable outbox rows of the database at ``path`` (opened read-only), oldest first."""
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except (sqlite3.Error, OSError, ValueError):
        return Salvage([], skipped=True)
    with closing(connection):
        try:
            columns = {row[1] for row in connection.execute("PRAGMA table_info(outbox)")}
        except sqlite3.DatabaseError:
            return Salvage([], skipped=True)
        if not CORE_COLUMNS["outbox"] <= columns:
            return Salvage([], skipped=False)  # no outbox, or someone else's table
        select = ", ".join(c if c in columns else "NULL" for c in OUTBOX_COLUMNS)
        rows: list[tuple[object, ...]] = []
        skipped = False
        for row in _rows(connection, select):
            if row is None:
                skipped = True
            elif (valid := _valid(row)) is not None:
                rows.append(valid)
            else:
                skipped = True
        return Salvage(rows, skipped)


def _rows(connection: sqlite3.Connection, select: str) -> Iterator[tuple[object, ...] | None]:
    """Rows in ``seq`` order, read one by one so that every row before a damaged page is kept;
    None marks a stretch that could not be read, after which the scan resumes at the next
    ``seq`` that can be reached."""
    after = 0  # seq is AUTOINCREMENT from 1
    while True:
        try:
            cursor = connection.execute(
                f"SELECT {select} FROM outbox WHERE seq > ? ORDER BY seq", (after,)
            )
            for row in cursor:
                yield row
                after = int(row[0])
            return
        except sqlite3.DatabaseError:
            yield None
            resumed = _next_reachable(connection, after)
            if resumed is None:
                return
            after = resumed - 1


def _next_reachable(connection: sqlite3.Connection, after: int) -> int | None:
    """The first ``seq`` after a damaged stretch: probe close ahead first (a page holds a few
    rows), then ever further."""
    step = 1
    while after + step < 2**63:
        with suppress(sqlite3.DatabaseError):
            found = connection.execute(
                "SELECT seq FROM outbox WHERE seq > ? ORDER BY seq LIMIT 1", (after + step,)
            ).fetchone()
            return None if found is None else int(found[0])
        step = step + 1 if step < 16 else step * 2
    return None


def _valid(row: tuple[object, ...]) -> tuple[object, ...] | None:
    """The row as it can be queued again, or None when a value is not what the outbox wrote."""
    seq, topic, payload, qos, retain, event_id, created_at = row
    if not isinstance(seq, int) or not isinstance(topic, str) or not topic:
        return None
    if isinstance(payload, str):
        payload = payload.encode("utf-8", "surrogateescape")
    if not isinstance(payload, bytes) or qos not in (0, 1, 2) or retain not in (0, 1):
        return None
    if not isinstance(created_at, int | float) or not math.isfinite(created_at):
        return None
    if event_id is not None and not isinstance(event_id, str):
        event_id = None
    return (seq, topic, payload, qos, retain, event_id, float(created_at))


def _write_fresh(path: Path, schema: str, rows: list[tuple[object, ...]]) -> None:
    """A complete database in one file (rollback journal: nothing left in a ``-wal`` when it is
    renamed into place; ``Database`` switches it to WAL when it opens it)."""
    _remove(path)
    with closing(sqlite3.connect(str(path), isolation_level=None)) as connection:
        connection.execute("PRAGMA synchronous=FULL")
        connection.executescript(schema)
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(
            f"INSERT INTO outbox({', '.join(OUTBOX_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?)", rows
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

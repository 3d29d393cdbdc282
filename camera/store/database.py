"""One SQLite database shared by the event store and the outbox.

SQLite in WAL mode with ``synchronous=FULL`` makes every committed alert survive a crash, a
``kill -9`` and a power cut; at a few events a minute the fsyncs cost nothing.  One connection,
serialised by a lock, because the frame loop writes and the MQTT thread acknowledges.

An SD card does get corrupted.  The file is checked when it is opened (``PRAGMA quick_check``
and the columns Ronda relies on); a damaged or foreign file is never written to and never
deleted: a writer (``run``, ``replay``, ``flush``) moves it aside with a timestamp, starts a new
one and carries over what could be read of the outbox (``camera.store.recovery``), saying so in
one log line; a reader (``events``, ``status``) reports it and leaves it alone.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from camera.files import describe_mode, describe_os_error, shown
from camera.store.errors import DamagedDatabase, DatabaseError
from camera.store.recovery import recover
from camera.store.schema import ADDED_COLUMNS, CORE_COLUMNS, SCHEMA

log = logging.getLogger(__name__)

DATABASE_NAME = "ronda.sqlite3"
"""The state database's file in the state directory (``store.path``)."""


class Database:
    """Thread-safe wrapper around one SQLite connection.

    ``readonly``: for commands that only look (``ronda events``, ``ronda status``): a damaged
    file is reported (:class:`DamagedDatabase`), not moved aside under a running service.
    """

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        self.lock = threading.RLock()
        """Held by every statement; hold it to keep in-memory state in step with a transaction."""
        _check_location(path)
        try:
            self._connection = self._open_checked()
        except DamagedDatabase as damage:
            if readonly:
                raise
            recover(path, damage.reason, SCHEMA)
            self._connection = self._open_checked()
        if not readonly:
            self._check_writable()

    def _check_writable(self) -> None:
        """A writer that cannot write would queue no alert: say so now, not at the first one."""
        try:
            (version,) = self._connection.execute("PRAGMA user_version").fetchone()
            self._connection.execute(f"PRAGMA user_version = {int(version)}")
        except sqlite3.Error as error:
            self._connection.close()
            raise DatabaseError(
                f"cannot write state database {shown(self.path)}: {error} (the state directory "
                "and its files must be writable by the user running Ronda)"
            ) from None

    def _open_checked(self) -> sqlite3.Connection:
        try:
            connection = sqlite3.connect(
                str(self.path), check_same_thread=False, isolation_level=None, timeout=10
            )
        except sqlite3.Error as error:
            raise DatabaseError(f"cannot open state database {shown(self.path)}: {error}") from None
        try:
            problem = integrity_problem(connection)
            if problem is not None:
                raise DamagedDatabase(self.path, problem)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=FULL")
            connection.executescript(SCHEMA)
            _add_missing_columns(connection)
        except sqlite3.DatabaseError as error:
            connection.close()
            if _is_corruption(error):
                raise DamagedDatabase(self.path, " ".join(str(error).split())) from None
            raise DatabaseError(f"cannot open state database {shown(self.path)}: {error}") from None
        except BaseException:
            connection.close()
            raise
        return connection

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run statements atomically: all of an event's messages are queued or none.

        A failed COMMIT (a full disk) leaves SQLite's transaction open: it is rolled back here so
        the next transaction can begin once the disk has room again."""
        with self.lock:
            self._connection.execute("BEGIN IMMEDIATE")
            try:
                yield self._connection
                self._connection.execute("COMMIT")
            except BaseException:
                if self._connection.in_transaction:
                    with suppress(sqlite3.Error):
                        self._connection.execute("ROLLBACK")
                raise

    def query(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple]:
        with self.lock:
            return self._connection.execute(sql, params).fetchall()

    def add_counter(self, connection: sqlite3.Connection, name: str, amount: int) -> None:
        connection.execute(
            "INSERT INTO counters(name, value) VALUES(?, ?) "
            "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
            (name, amount),
        )

    def counter(self, name: str) -> int:
        rows = self.query("SELECT value FROM counters WHERE name = ?", (name,))
        return int(rows[0][0]) if rows else 0

    def close(self) -> None:
        with self.lock:
            self._connection.close()


def integrity_problem(connection: sqlite3.Connection) -> str | None:
    """None if the file passes ``PRAGMA quick_check`` and Ronda's tables have their core
    columns; else what is wrong, in a few words.  Raises ``sqlite3.DatabaseError`` for a file
    that is not a database at all."""
    rows = connection.execute("PRAGMA quick_check").fetchall()
    if rows != [("ok",)]:
        first = " ".join(str(rows[0][0]).split()) if rows else "no answer"
        more = f" and {len(rows) - 1} more problem(s)" if len(rows) > 1 else ""
        return f"quick_check: {first}{more}"
    for table, needed in CORE_COLUMNS.items():
        columns = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
        if columns and not needed <= columns:
            missing = ", ".join(sorted(needed - columns))
            return f"its {table} table is not Ronda's (no {missing})"
    return None


def _add_missing_columns(connection: sqlite3.Connection) -> None:
    """Bring a database written by an earlier version up to ``ADDED_COLUMNS``.  A reader
    without write access leaves it as it is: the service adds them when it next starts."""
    for table, column, declaration in ADDED_COLUMNS:
        present = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
        if column not in present:
            try:
                connection.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
            except sqlite3.OperationalError as error:
                if "readonly" not in str(error).replace("-", "").replace(" ", ""):
                    raise
                return


def _is_corruption(error: sqlite3.DatabaseError) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    return code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB) or any(
        words in str(error) for words in ("malformed", "not a database")
    )


def _check_location(path: Path) -> None:
    """The state directory exists (or is made) and the file, if any, is a regular file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (OSError, ValueError) as error:
        reason = describe_os_error(error) if isinstance(error, OSError) else "contains a NUL byte"
        raise DatabaseError(
            f"cannot use state directory {shown(path.parent)}: {reason} "
            "(set store.path or --state-dir)"
        ) from None
    if not path.parent.is_dir():
        raise DatabaseError(
            f"cannot use state directory {shown(path.parent)}: not a directory "
            "(set store.path or --state-dir)"
        )
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as error:
        raise DatabaseError(
            f"cannot open state database {shown(path)}: {describe_os_error(error)}"
        ) from None
    if not stat.S_ISREG(mode):
        raise DatabaseError(f"cannot open state database {shown(path)}: it {describe_mode(mode)}")

"""What the integrity check at open costs: ``Database(path)`` against a plain SQLite open.

``Database`` runs ``PRAGMA quick_check`` (every page of the file read once) and a schema check
before it is used, so a damaged SD card is found at start and not at the first alert.  The cost
grows with the file: this fills a state database like a camera after an outage (events plus a
backlog of queued thumbnails) and times, interleaved and repeated, in one process:

* **baseline**: ``sqlite3.connect`` + the same pragmas and schema statement, no check;
* **checked**: ``camera.store.Database`` (the check, the schema, the write probe).

The page cache is warm after the first round (as on a Pi that just wrote the file); the first
cold open is printed apart.

Run from the repo root: ``.venv/bin/python bench/state_open.py [--megabytes N] [--rounds N]``.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from camera.store import Database, Outbox, OutboxConfig, OutgoingMessage
from camera.store.database import _SCHEMA


def fill(path: Path, megabytes: int) -> None:
    database = Database(path)
    outbox = Outbox(database, OutboxConfig(max_megabytes=10_000))
    thumbnail = os.urandom(40_000)
    for n in range(megabytes * 1_000_000 // 40_400):
        outbox.put(
            [
                OutgoingMessage("ronda/bench/events", b"{}" * 200, event_id=f"e{n}"),
                OutgoingMessage(f"ronda/bench/events/e{n}/thumbnail", thumbnail, event_id=f"e{n}"),
            ]
        )
    database.query("PRAGMA wal_checkpoint(TRUNCATE)")
    database.close()


def plain_open(path: Path) -> float:
    started = time.perf_counter()
    connection = sqlite3.connect(str(path), isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.executescript(_SCHEMA)
    took = time.perf_counter() - started
    connection.close()
    return took


def checked_open(path: Path) -> float:
    started = time.perf_counter()
    database = Database(path)
    took = time.perf_counter() - started
    database.close()
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=200, help="outbox size (default 200)")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ronda-bench-") as scratch:
        path = Path(scratch) / "ronda.sqlite3"
        fill(path, args.megabytes)
        size = path.stat().st_size / 1e6
        os.posix_fadvise(os.open(path, os.O_RDONLY), 0, 0, os.POSIX_FADV_DONTNEED)
        cold = checked_open(path)
        plain, checked = [], []
        for _ in range(args.rounds):
            plain.append(plain_open(path))
            checked.append(checked_open(path))
    base, check = statistics.median(plain), statistics.median(checked)
    print(f"state database {size:.0f} MB, {args.rounds} rounds, load {os.getloadavg()[0]:.1f}")
    print(f"  baseline open   {base * 1000:8.1f} ms (median)")
    print(f"  checked open    {check * 1000:8.1f} ms (median)   ratio {check / base:6.1f}x")
    print(f"  first, cold     {cold * 1000:8.1f} ms")


if __name__ == "__main__":
    main()

"""Recovery of a damaged state database carries over both tables that hold alerts: the queued
ones (outbox) and the refused ones (dead letters), each as far as its pages can be read."""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path

import pytest

from camera.store import Database, Outbox, OutboxConfig, OutgoingMessage


def _message(n: int, size: int = 60) -> OutgoingMessage:
    return OutgoingMessage(f"ronda/test/events/{n}", b"x" * size, event_id=f"e{n}")


def _new_outbox(tmp_path: Path) -> tuple[Path, Outbox]:
    path = tmp_path / "state.sqlite3"
    return path, Outbox(Database(path), OutboxConfig())


def _damage_every_fifth_page(path: Path) -> None:
    """Overwrite every fifth page from the twentieth on with random bytes (every page in the
    main file first), as a failing SD card would; the first pages hold the tables' roots, and a
    table whose root is gone has nothing left to read."""
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    page = 4096
    for offset in range(19 * page, len(data), 5 * page):
        data[offset : offset + page] = os.urandom(page)
    path.write_bytes(bytes(data))


def test_a_damaged_database_keeps_its_queued_alerts_and_its_dead_letters_in_order(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    path, outbox = _new_outbox(tmp_path)
    outbox.put([_message(n) for n in range(3)])
    outbox.put_dead([_message(n) for n in range(10, 12)], "topic refused: it contains '+'")
    queued = outbox.pending()
    assert outbox.bury(queued[0].seq, "refused by the broker 2 times", attempts=2)
    before = outbox.dead.entries()
    outbox.database.close()
    # Damage that leaves both alert tables readable: the event history's page is garbage.
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        (root,) = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'events'").fetchone()
    with path.open("r+b") as handle:
        handle.seek((root - 1) * 4096)
        handle.write(os.urandom(4096))

    reopened = Outbox(Database(path), OutboxConfig())

    assert "was damaged" in caplog.text
    assert "carried over 2 queued alert message(s) and 3 dead letter(s)" in caplog.text
    assert [m.topic for m in reopened.pending()] == [m.topic for m in queued[1:]]
    after = reopened.dead.entries()
    assert [(d.topic, d.reason, d.attempts, d.size) for d in after] == [
        (d.topic, d.reason, d.attempts, d.size) for d in before
    ]
    # And they can be put back by the owner as before the damage.
    assert reopened.revive(reopened.dead.existing(None)) == 3
    assert reopened.depth() == 5
    assert list(tmp_path.glob("state.sqlite3.damaged-*"))


def test_dead_letters_on_overwritten_pages_are_skipped_and_the_rest_kept(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    path, outbox = _new_outbox(tmp_path)
    outbox.put_dead([_message(n, size=1500) for n in range(300)], "refused")
    outbox.database.close()
    _damage_every_fifth_page(path)

    reopened = Outbox(Database(path), OutboxConfig())

    kept = reopened.dead.entries()
    assert 100 <= len(kept) < 300  # what could be read, not nothing and not everything
    numbers = [int(d.topic.rsplit("/", 1)[1]) for d in kept]
    assert numbers == sorted(numbers)  # still oldest first
    assert "some rows could not be read" in caplog.text

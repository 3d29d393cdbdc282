"""The on-disk outbox: order, acknowledgement, bounds, survival across reopen."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from camera.store import Database, Outbox, OutboxConfig, OutgoingMessage


def message(i: int) -> OutgoingMessage:
    return OutgoingMessage(topic="ronda/x/events", payload=f"m{i}".encode(), event_id=f"e{i}")


def test_fifo_ack_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    outbox = Outbox(Database(path), OutboxConfig())
    outbox.put([message(i) for i in range(5)])
    pending = outbox.pending()
    assert [m.payload for m in pending] == [b"m0", b"m1", b"m2", b"m3", b"m4"]
    outbox.ack(pending[0].seq)
    outbox.ack(pending[2].seq)
    outbox.database.close()
    reopened = Outbox(Database(path), OutboxConfig())
    assert [m.payload for m in reopened.pending()] == [b"m1", b"m3", b"m4"]
    assert [m.payload for m in reopened.pending(after_seq=pending[1].seq)] == [b"m3", b"m4"]


def test_bounds_drop_oldest_and_count_it(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    outbox = Outbox(Database(tmp_path / "db"), OutboxConfig(max_messages=100, max_age_days=1))
    caplog.set_level(logging.WARNING)
    outbox.put([message(i) for i in range(3)], now=0.0)  # three days old by the next put
    outbox.put([message(i) for i in range(3, 105)], now=3 * 86400.0)
    assert outbox.depth() == 100
    assert outbox.dropped() == 5  # 3 by age, 2 by count
    assert outbox.pending(limit=1)[0].payload == b"m5"
    assert "dropped 5 undelivered" in caplog.text

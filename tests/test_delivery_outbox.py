"""The on-disk outbox (the durable half of delivery): order, acknowledgement, survival across
reopen, bounds by count, bytes and age, batched acknowledgements."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from camera.store import Database, Outbox, OutboxConfig, OutgoingMessage


def thumbnail(i: int, size: int = 50_000) -> OutgoingMessage:
    return OutgoingMessage(f"ronda/x/events/e{i}/thumbnail", bytes([i % 256]) * size)


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


def test_byte_bound_drops_the_oldest_and_counts_them(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    outbox = Outbox(Database(tmp_path / "db"), OutboxConfig(max_megabytes=0.2))
    outbox.put([thumbnail(i) for i in range(3)])
    assert outbox.depth() == 3 and outbox.dropped() == 0
    outbox.put([thumbnail(i) for i in range(3, 6)])  # 300 KB queued, 200 KB allowed
    assert outbox.depth() == 4
    assert outbox.dropped() == 2
    assert [m.payload[0] for m in outbox.pending()] == [2, 3, 4, 5]
    assert "dropped 2 undelivered message(s) (0 by age, 2 by size" in caplog.text


def test_age_bound_applies_when_the_outbox_is_opened(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A camera off for two weeks does not deliver two-week-old alerts when it comes back."""
    path = tmp_path / "db"
    outbox = Outbox(Database(path), OutboxConfig(max_age_days=7))
    outbox.put([thumbnail(0, 10)], now=1.0)  # created in 1970
    outbox.database.close()
    caplog.set_level(logging.WARNING)
    reopened = Outbox(Database(path), OutboxConfig(max_age_days=7))
    assert reopened.depth() == 0
    assert reopened.dropped() == 1
    assert "1 by age" in caplog.text


def test_ack_many_is_one_transaction_and_ignores_unknown_rows(tmp_path: Path) -> None:
    outbox = Outbox(Database(tmp_path / "db"), OutboxConfig())
    outbox.put([thumbnail(i, 10) for i in range(5)])
    seqs = [m.seq for m in outbox.pending()]
    outbox.ack_many([seqs[0], seqs[3], 999_999])  # a row already dropped by a bound: no error
    outbox.ack_many([])
    assert [m.seq for m in outbox.pending()] == [seqs[1], seqs[2], seqs[4]]


def test_running_totals_match_the_table(tmp_path: Path) -> None:
    """The bounds use in-memory totals (a scan per put would stall the frame loop during a long
    outage); they must agree with the table through puts, acks and drops, and after reopening."""
    path = tmp_path / "db"
    outbox = Outbox(Database(path), OutboxConfig(max_messages=100, max_megabytes=1.0))

    def table() -> tuple[int, int]:
        (row,) = outbox.database.query(
            "SELECT COUNT(*), COALESCE(SUM(LENGTH(payload)), 0) FROM outbox"
        )
        return row

    for i in range(60):
        outbox.put([thumbnail(i, 1000 + 997 * i), thumbnail(i, 300)])
        if i % 7 == 0:
            outbox.ack_many([m.seq for m in outbox.pending(limit=3)])
    assert outbox.dropped() > 0
    assert (outbox.depth(), outbox.queued_bytes()) == table()
    outbox.database.close()
    outbox = Outbox(Database(path), OutboxConfig(max_messages=100, max_megabytes=1.0))
    assert (outbox.depth(), outbox.queued_bytes()) == table()


# -- dead letters ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ("CAST(X'ff' AS TEXT), X'00', 1, 0", "its topic is not UTF-8 text"),
        ("X'7468', X'00', 1, 0", "its topic is blob, not text"),
        ("'t', 3.5, 1, 0", "its payload is float, not bytes"),
        ("'t', X'00', 7, 0", "QoS 7 / retain 0 are not valid"),
    ],
)
def test_an_unreadable_row_is_buried_and_the_next_one_is_read(
    tmp_path: Path, values: str, reason: str
) -> None:
    outbox = Outbox(Database(tmp_path / "db"), OutboxConfig())
    with outbox.database.transaction() as db:
        db.execute(
            "INSERT INTO outbox(topic, payload, qos, retain, event_id, created_at) "
            f"VALUES ({values}, 'e', CAST(strftime('%s', 'now') AS REAL))"
        )
    outbox.put([message(1)])
    assert [m.payload for m in outbox.pending()] == [b"m1"]
    (letter,) = outbox.dead.entries()
    assert letter.reason == f"unreadable outbox row: {reason}"
    assert (outbox.depth(), outbox.dead.count()) == (1, 1)


def test_bury_revive_drop_keep_the_totals_right(tmp_path: Path) -> None:
    outbox = Outbox(Database(tmp_path / "db"), OutboxConfig())
    outbox.put([thumbnail(i, 1000) for i in range(3)])
    first = outbox.pending()[0]
    assert outbox.bury(first.seq, "refused by the broker 5 times: Not authorized", attempts=5)
    assert not outbox.bury(first.seq, "again", attempts=1)  # already gone
    assert (outbox.depth(), outbox.queued_bytes()) == (2, 2000)
    (letter,) = outbox.dead.entries()
    assert (letter.topic, letter.size, letter.attempts) == (first.topic, 1000, 5)
    assert outbox.revive([letter.id, 12345]) == 1  # an unknown id is skipped
    assert (outbox.depth(), outbox.queued_bytes(), outbox.dead.count()) == (3, 3000, 0)
    assert outbox.pending()[-1].payload == first.payload  # back at the end of the queue
    outbox.put_dead([OutgoingMessage("a/+/b", b"x")], "invalid MQTT topic")
    outbox.put_dead([OutgoingMessage("a/#", b"y")], "invalid MQTT topic")
    ids = outbox.dead.existing(None)
    assert outbox.dead.existing([ids[1], 999]) == [ids[1]]
    assert outbox.dead.drop(ids) == 2
    assert (outbox.dead.count(), outbox.dead.dropped()) == (0, 2)


def test_dead_letters_are_capped_and_the_cap_is_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("camera.store.dead_letters.MAX_DEAD_LETTERS", 3)
    outbox = Outbox(Database(tmp_path / "db"), OutboxConfig())
    outbox.put_dead([message(i) for i in range(5)], "invalid MQTT topic")
    assert outbox.dead.count() == 3
    assert outbox.dead.dropped() == 2

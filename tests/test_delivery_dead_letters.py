"""The outbox never blocks on one message: a poison message at the head of the queue goes to
the dead letters and everything behind it is delivered; the owner sees it (``ronda status``,
``ronda doctor``, the stats message) and retries or drops it (``ronda outbox``).  Real
mosquitto, real command line."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from camera.app import RunOptions, Runtime
from camera.cli import main
from camera.config import parse_config
from camera.store import DATABASE_NAME, Database, Outbox, OutboxConfig, OutgoingMessage
from tests.broker import Mosquitto, Subscriber, wait_until
from tests.cli_helpers import ronda, write_config
from tests.link_helpers import alerts, keys, make_link, open_outbox

WILDCARD_TOPIC = "ronda/front+door/events"  # queued by a version whose config allowed '+'


def queue_poison_then_twenty(outbox: Outbox) -> None:
    """A wildcard topic and an unreadable row at the head of the queue, 20 good alerts behind."""
    outbox.put([OutgoingMessage(WILDCARD_TOPIC, b'{"id":"poison"}', event_id="poison")])
    with outbox.database.transaction() as db:  # not UTF-8: reading it as text fails
        db.execute(
            "INSERT INTO outbox(topic, payload, qos, retain, event_id, created_at) "
            "VALUES (CAST(X'72ff2f6576' AS TEXT), X'00', 1, 0, NULL, strftime('%s', 'now'))"
        )
    outbox.put(alerts(0, 20))


def test_poison_at_the_head_goes_to_the_dead_letters_and_the_twenty_behind_arrive(
    tmp_path: Path, broker: Mosquitto, subscriber: Subscriber, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    outbox = open_outbox(tmp_path)
    queue_poison_then_twenty(outbox)
    outbox.database.close()
    link, outbox = make_link(tmp_path, broker.port)
    link.start()
    try:
        assert subscriber.wait_for(lambda s: s.unique_event_keys() == keys(0, 20))
        assert wait_until(lambda: outbox.depth() == 0, 5)
    finally:
        link.stop()
    reasons = {letter.topic: letter.reason for letter in outbox.dead.entries()}
    assert reasons == {
        WILDCARD_TOPIC: "refused by the MQTT client: Publish topic cannot contain wildcards.",
        "r\\xff/ev": "unreadable outbox row: its topic is not UTF-8 text",
    }
    assert (
        link.sender.buried == 1 and link.sender.acked == 20
    )  # nothing counted as delivered that was not
    assert caplog.text.count("to the dead letters") == 2  # once per reason
    assert not subscriber.on("front+door/events")


def cli(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    """The real command line, in this process (a subprocess costs seconds on a busy machine)."""
    capsys.readouterr()
    code = main([str(arg) for arg in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_status_doctor_stats_show_dead_letters_and_outbox_retry_drop_work(
    tmp_path: Path, broker: Mosquitto, subscriber: Subscriber, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(
        tmp_path,
        mqtt={"host": broker.host, "port": broker.port, "reconnect_min_s": 0.1},
        governor={"enabled": False},
    )
    state = tmp_path / "state"
    outbox = Outbox(Database(state / DATABASE_NAME), OutboxConfig())
    queue_poison_then_twenty(outbox)
    outbox.database.close()

    flushed = ronda("flush", "--config", config, "--timeout", "20", timeout=60)
    assert flushed.returncode == 0, flushed.stderr  # the backlog drained, the poison is aside
    assert "delivered 20 queued message(s); 0 left" in flushed.stdout
    assert "2 message(s) could not be delivered and are kept as dead letters" in flushed.stderr
    assert subscriber.wait_for(lambda s: s.unique_event_keys() == keys(0, 20))

    _, status, _ = cli(capsys, "status", "--config", config, "--timeout", "0.5")
    assert "outbox 0 queued, 0 dropped, 2 dead letter(s) (ronda outbox list)" in status
    skips = [arg for name in ("models", "runtime", "camera", "sensors") for arg in ("--skip", name)]
    _, doctor, _ = cli(capsys, "doctor", "--config", config, *skips)
    (line,) = [line for line in doctor.splitlines() if " outbox " in line]
    assert line.startswith("warn  outbox   0 queued, 2 dead letter(s); latest: refused by")
    assert "ronda outbox retry" in line
    runtime = Runtime(parse_config(_yaml(config)), RunOptions(use_mqtt=False))
    try:
        assert runtime.stats_payload()["dead_letters"] == 2
    finally:
        runtime.close()

    code, listed, _ = cli(capsys, "outbox", "--config", config, "list")
    assert code == 0
    ids = {row[3]: int(row[0]) for row in map(str.split, listed.splitlines()[1:])}
    assert set(ids) == {WILDCARD_TOPIC, "r\\xff/ev"}
    wildcard, unreadable = ids[WILDCARD_TOPIC], ids["r\\xff/ev"]
    code, _, err = cli(capsys, "outbox", "--config", config, "drop", "999")
    assert (code, err) == (
        2,
        "ronda outbox drop: no dead letter with id 999 (see `ronda outbox list`)\n",
    )
    assert cli(capsys, "outbox", "--config", config, "retry")[0] == 2  # neither ids nor --all
    _, dropped, _ = cli(capsys, "outbox", "--config", config, "drop", unreadable)
    assert "dropped 1 dead letter(s) for good" in dropped
    _, retried, _ = cli(capsys, "outbox", "--config", config, "retry", wildcard)
    assert "put 1 dead letter(s) back in the outbox" in retried
    again = ronda("flush", "--config", config, "--timeout", "20", timeout=60)
    assert "delivered 0 queued message(s); 0 left" in again.stdout  # still a wildcard topic
    _, after, _ = cli(capsys, "outbox", "--config", config, "list")
    assert after.splitlines()[0] == (
        "outbox: 0 queued, 1 dead letter(s), 1 dead letter(s) dropped so far"
    )


def _yaml(path: Path) -> dict:
    import yaml

    return yaml.safe_load(path.read_text())


def test_a_topic_prefix_mqtt_forbids_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """Backstop for the configuration's own check: topics are validated where they are made."""
    config = write_config(tmp_path, mqtt={"topic_prefix": "ronda/front+door", "port": 1})
    result = ronda("flush", "--config", config, "--timeout", "1", timeout=60)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr  # the configuration refuses it first, naming the key
    assert lines[0] == (
        f"ronda: config error in {config}: mqtt.topic_prefix: contains '+' (MQTT "
        "wildcards and NUL cannot be published to)"
    )
    assert "Traceback" not in result.stderr

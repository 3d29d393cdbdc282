"""The end of a replay against a broker that came back while the link slept in its backoff: the
drain retries at once, everything arrives, and ``ronda replay`` exits 0 (it used to sleep
through the rest of its backoff and exit 3 with the broker up for seconds)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.broker import Mosquitto, Subscriber, wait_until
from tests.cli_helpers import REPO, write_config


def test_broker_back_before_the_end_of_a_replay_exits_0_with_everything_delivered(
    tmp_path: Path, persistent_broker: Mosquitto, phone: Subscriber, demo_scene: Path
) -> None:
    persistent_broker.stop()  # the phone's session waits on the broker for what comes
    config = write_config(
        tmp_path,
        mqtt={
            "host": persistent_broker.host,
            "port": persistent_broker.port,
            # One failed attempt, then a 60 s sleep: far longer than the replay and its drain.
            "reconnect_min_s": 60,
            "reconnect_max_s": 60,
            "drain_timeout_s": 30,
        },
        governor={"enabled": False},
        logging={"level": "INFO"},
    )
    jsonl = tmp_path / "events.jsonl"
    log = tmp_path / "replay.log"
    command = [sys.executable, "-m", "camera", "replay", str(demo_scene), "--config", str(config)]
    with log.open("wb") as stderr:
        command += ["--events-jsonl", str(jsonl)]
        replay = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        assert wait_until(lambda: "refused the connection" in log.read_text(), 120), (
            log.read_text()[-2000:]
        )
        persistent_broker.start()  # back, while the link sleeps and the replay goes on
        assert replay.wait(timeout=180) == 0, log.read_text()[-3000:]
    finally:
        if replay.poll() is None:
            replay.kill()
            replay.wait()
    produced = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert len(produced) >= 4  # the person and the cat, each a start and an end at least
    expected = [(u["id"], u["sequence"]) for u in produced]
    assert phone.wait_for(lambda s: s.unique_event_keys() == expected, timeout=20)
    assert "waiting up to 30 s for the broker to acknowledge" in log.read_text()

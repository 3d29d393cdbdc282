"""``kill -9`` of a real ``ronda replay`` process, then ``ronda flush``: what was produced
(the ``--events-jsonl`` file) arrives at the subscriber, exactly once, in order, with its
thumbnails.  paho alone would have lost all of it: its unacknowledged messages live in memory.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import cv2
import pytest

from tests.broker import Mosquitto, Subscriber, free_port, wait_until
from tests.cli_helpers import REPO, ronda, write_config
from tests.conftest import footage

pytestmark = pytest.mark.slow

CLIP = "clips/intel_one-by-one-person-detection.mp4"
SEGMENT = (40, 470)  # frames: the first two people walk in and out (manifest: 60-202, 227-451)


@pytest.fixture(scope="module")
def two_people(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 43 s of the real one-by-one clip as a folder of frames (10 fps, as the clip)."""
    capture = cv2.VideoCapture(str(footage(CLIP)))
    folder = tmp_path_factory.mktemp("two-people")
    capture.set(cv2.CAP_PROP_POS_FRAMES, SEGMENT[0])
    for index in range(SEGMENT[1] - SEGMENT[0]):
        ok, frame = capture.read()
        assert ok, f"cannot read frame {SEGMENT[0] + index} of {CLIP}"
        cv2.imwrite(str(folder / f"frame_{index:05d}.jpg"), frame, [cv2.IMWRITE_JPEG_QUALITY, 92])
    capture.release()
    return folder


class Replay:
    """``ronda replay`` as a child process we can SIGKILL; stderr goes to a file we can watch."""

    def __init__(self, tmp_path: Path, config: Path, scene: Path) -> None:
        self.jsonl = tmp_path / "events.jsonl"
        self.log = tmp_path / "replay.log"
        command = [sys.executable, "-m", "camera", "replay", str(scene), "--config", str(config)]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [*command, "--events-jsonl", str(self.jsonl)],
                cwd=REPO,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )

    def updates(self) -> list[dict]:
        if not self.jsonl.exists():
            return []
        return [json.loads(line) for line in self.jsonl.read_text().splitlines()]

    def logged(self, text: str) -> bool:
        return text in self.log.read_text(errors="replace")

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        assert self.process.wait(timeout=10) == -signal.SIGKILL

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def down_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """A broker that is not running yet (its port is reserved in the config)."""
    server = Mosquitto(tmp_path, port=free_port())
    yield server
    server.stop()


def config(tmp_path: Path, broker: Mosquitto) -> Path:
    return write_config(
        tmp_path,
        mqtt={
            "host": broker.host,
            "port": broker.port,
            "reconnect_min_s": 0.2,
            "reconnect_max_s": 1.0,
            "drain_timeout_s": 600,  # the replay then waits for the broker: a stable kill point
        },
        logging={"level": "INFO"},
    )


def keys(updates: list[dict]) -> list[tuple[str, int]]:
    return [(u["id"], u["sequence"]) for u in updates]


def flush(config_path: Path) -> str:
    result = ronda("flush", "--config", config_path, "--timeout", "60", timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_kill_9_with_every_alert_queued_then_flush(
    tmp_path: Path, down_broker: Mosquitto, two_people: Path
) -> None:
    path = config(tmp_path, down_broker)
    replay = Replay(tmp_path, path, two_people)
    try:
        # The replay is over and every alert is on disk, waiting for a broker that is down.
        assert wait_until(lambda: replay.logged("for the broker to acknowledge"), 300), (
            replay.log.read_text()[-3000:]
        )
        replay.kill()
    finally:
        replay.stop()
    produced = replay.updates()
    assert sum(u["type"] == "start" for u in produced) >= 2, produced

    down_broker.start()
    phone = Subscriber(down_broker.host, down_broker.port, topic="ronda/#").start()
    try:
        assert f"delivered {len(produced) + sum(u['has_thumbnail'] for u in produced)}" in flush(
            path
        )
        # Exactly once (nothing was in flight when the broker was down), in order, byte for byte.
        assert phone.wait_for(lambda s: len(s.event_keys()) == len(produced))
        assert phone.event_keys() == keys(produced)
        assert [m.json() for m in phone.on("/events")] == produced
        with_thumbnail = [u for u in produced if u["has_thumbnail"]]
        assert phone.wait_for(lambda s: len(s.thumbnails()) == len(with_thumbnail))
        assert [m.topic for m in phone.thumbnails()] == [
            u["thumbnail_topic"] for u in with_thumbnail
        ]
        assert all(m.payload[:2] == b"\xff\xd8" for m in phone.thumbnails())  # JPEG
    finally:
        phone.stop()
    # Nothing is left: a second flush has nothing to deliver.
    assert "delivered 0 queued message(s); 0 left" in flush(path)


def test_kill_9_in_the_middle_of_a_replay_then_flush(
    tmp_path: Path, down_broker: Mosquitto, demo_scene: Path
) -> None:
    """Killed right after an event started: the alert was on disk before anything else."""
    path = config(tmp_path, down_broker)
    replay = Replay(tmp_path, path, demo_scene)
    try:
        assert wait_until(lambda: len(replay.updates()) >= 1, 120), replay.log.read_text()[-3000:]
        replay.kill()
    finally:
        replay.stop()
    produced = replay.updates()

    down_broker.start()
    phone = Subscriber(down_broker.host, down_broker.port, topic="ronda/#").start()
    try:
        flush(path)
        assert phone.wait_for(lambda s: len(s.event_keys()) >= len(produced))
        arrived = phone.unique_event_keys()
    finally:
        phone.stop()
    # Everything written to the JSONL arrived, first; at most the one update being written when
    # the kill came is in the outbox (written first) but not yet in the JSONL.
    assert arrived[: len(produced)] == keys(produced)
    assert len(arrived) - len(produced) <= 1


def test_kill_9_while_publishing_then_flush(
    tmp_path: Path, persistent_broker: Mosquitto, phone: Subscriber, demo_scene: Path
) -> None:
    """The broker is up: some alerts were acknowledged, some in flight, when the kill came."""
    path = config(tmp_path, persistent_broker)
    replay = Replay(tmp_path, path, demo_scene)
    try:
        assert wait_until(lambda: len(replay.updates()) >= 3, 120), replay.log.read_text()[-3000:]
        replay.kill()
    finally:
        replay.stop()
    produced = replay.updates()
    flush(path)
    assert phone.wait_for(lambda s: len(s.unique_event_keys()) >= len(produced))
    arrived = phone.unique_event_keys()
    assert arrived[: len(produced)] == keys(produced)
    assert len(arrived) - len(produced) <= 1
    # A duplicate carries the same id and sequence and the very same payload, so it can be dropped.
    payloads: dict[tuple[str, int], set[bytes]] = {}
    for message in phone.on("/events"):
        event = message.json()
        payloads.setdefault((event["id"], event["sequence"]), set()).add(message.payload)
    assert all(len(p) == 1 for p in payloads.values())

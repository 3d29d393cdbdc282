"""The owner's controls on a real ``ronda run``: a real mosquitto, the real subprocess on a looping
video (a person walks through every four seconds), commands published as Home Assistant does.

Each control is turned through its MQTT command topic and its effect checked on what is
published (event JSON, retained state), recorded (clips) and stored (the event database); then
Ronda is restarted and the state it comes back with is the one the owner left.  About a minute.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import paho.mqtt.publish as mqtt_publish
import pytest

from tests.broker import Mosquitto, Received, Subscriber, wait_until
from tests.cli_helpers import REPO, ronda, write_config

PREFIX = "ronda/test"
LOOP_FPS = 20
STATE_TOPICS = ("armed", "snooze", "privacy", "recording", "sensitivity", "threshold/person")
SETTLE_S = 0.5
"""An event whose start arrives this long after the new state was published was started under
it (the frame loop reads the state at its next frame, 50 ms at this frame rate)."""


@pytest.fixture(scope="module")
def person_loop(demo_scene: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's person walking through an empty room, then the room empty a moment: about
    four seconds at 20 fps, so every loop is one person event."""
    path = tmp_path_factory.mktemp("loop") / "person.mp4"
    frames = sorted(demo_scene.glob("frame_*.jpg"))
    chosen = frames[15:80] + frames[145:160]
    first = cv2.imread(str(chosen[0]))
    height, width = first.shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), LOOP_FPS, (width, height))
    for frame in chosen:
        writer.write(cv2.imread(str(frame)))
    writer.release()
    assert path.stat().st_size > 0
    return path


class Camera:
    """``ronda run`` in a subprocess, its output in a log file."""

    def __init__(self, config: Path, log: Path) -> None:
        self.config = config
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        output = self.log.open("a")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "camera", "run", "--config", str(self.config)],
            cwd=REPO,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        output.close()

    def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=60)
        self.process = None
        return code

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def output(self) -> str:
        return self.log.read_text()


@pytest.fixture
def camera(tmp_path: Path, broker: Mosquitto, person_loop: Path) -> Iterator[Camera]:
    config = write_config(
        tmp_path,
        source={"kind": "file", "uri": str(person_loop), "loop": True},
        mqtt={"host": broker.host, "port": broker.port, "stats_interval_s": 1},
        tracker={"end_after_s": 0.8},
        clips={"pre_s": 0.5, "post_s": 0.5},
        governor={"enabled": False},
        web={"enabled": False},
    )
    running = Camera(config, tmp_path / "ronda.log")
    yield running
    running.kill()


class Owner:
    """Publishes commands and reads what Ronda publishes, as Home Assistant would."""

    def __init__(self, broker: Mosquitto, subscriber: Subscriber, state_dir: Path) -> None:
        self.broker = broker
        self.subscriber = subscriber
        self.state_dir = state_dir

    def command(self, control: str, payload: str, *, retain: bool = False) -> None:
        mqtt_publish.single(
            f"{PREFIX}/{control}/set",
            payload,
            qos=1,
            retain=retain,
            hostname=self.broker.host,
            port=self.broker.port,
        )

    def state(self, control: str) -> Received | None:
        """The latest retained state of ``control`` (the empty messages that cleared the
        broker's copies before a restart are not a state)."""
        found = [
            m for m in self.subscriber.messages if m.topic == f"{PREFIX}/{control}" and m.payload
        ]
        return found[-1] if found else None

    def controls(self) -> dict:
        """The retained JSON of every control (published after the single topics)."""
        state = self.state("controls")
        return json.loads(state.payload) if state is not None else {}

    def has_every_state(self) -> bool:
        """Every control's retained state and the JSON of them all have arrived."""
        return all(self.state(c) is not None for c in (*STATE_TOPICS, "controls"))

    def set(self, control: str, payload: str, expected: str | None = None) -> Received:
        """Send a command and wait for the retained state that says it was applied."""
        self.command(control, payload)
        want = expected or payload

        def applied() -> bool:
            state = self.state(control)
            return state is not None and state.payload.decode() == want

        assert wait_until(applied, 15), (control, self.state(control))
        state = self.state(control)
        assert state is not None
        return state

    def next_start(self, after: Received, timeout: float = 30) -> dict:
        """The first person event started under the state published as ``after``."""

        def starts() -> list[dict]:
            return [
                m.json()
                for m in self.subscriber.on("/events")
                if m.at > after.at + SETTLE_S
                and m.json()["type"] == "start"
                and m.json()["label"] == "person"
            ]

        assert wait_until(lambda: bool(starts()), timeout), "no person event started"
        return starts()[0]

    def stats(self) -> dict:
        return self.subscriber.on("/stats")[-1].json()

    def stored_alerted(self, event_id: str) -> bool:
        """The stored event's ``alerted`` (the store writes it just after the alert sink queued
        the message a subscriber may already have)."""

        def row() -> tuple | None:
            with sqlite3.connect(self.state_dir / "ronda.sqlite3") as db:
                return db.execute("SELECT alerted FROM events WHERE id = ?", (event_id,)).fetchone()

        assert wait_until(lambda: row() is not None, 10), f"event {event_id} not stored"
        found = row()
        assert found is not None
        return bool(found[0])

    def clear_retained_state(self) -> None:
        for control in (*STATE_TOPICS, "controls"):
            mqtt_publish.single(
                f"{PREFIX}/{control}", None, retain=True,
                hostname=self.broker.host, port=self.broker.port,
            )  # fmt: skip


def test_each_control_changes_what_is_published_recorded_and_stored_and_survives_a_restart(
    tmp_path: Path, broker: Mosquitto, camera: Camera
) -> None:
    subscriber = Subscriber(broker.host, broker.port, topic="ronda/#").start()
    owner = Owner(broker, subscriber, tmp_path / "state")
    try:
        camera.start()
        assert wait_until(owner.has_every_state, 90), camera.output()
        assert {c: owner.state(c).payload.decode() for c in STATE_TOPICS} == {  # type: ignore[union-attr]
            "armed": "ON", "snooze": "0", "privacy": "OFF", "recording": "ON",
            "sensitivity": "medium", "threshold/person": "0.5",
        }  # fmt: skip
        armed = owner.state("armed")
        assert armed is not None
        first = owner.next_start(armed, timeout=60)
        assert (first["alerted"], first["suppressed_by"]) == (True, None)
        assert first["clip"] is not None

        # Disarmed: published with alerted false, still recorded and stored.
        disarmed = owner.set("armed", "OFF")
        quiet = owner.next_start(disarmed)
        assert (quiet["alerted"], quiet["suppressed_by"]) == (False, "disarmed")
        assert quiet["clip"] is not None, "disarmed still records"
        assert wait_until(lambda: owner.stats()["controls"]["armed"] is False, 5)
        assert owner.stored_alerted(quiet["id"]) is False
        assert owner.stored_alerted(first["id"]) is True

        # Snoozed: the same, until the time given; the state counts the minutes.
        owner.set("armed", "ON")
        snoozed = owner.set("snooze", "5")
        assert wait_until(lambda: owner.controls()["snooze_minutes"] == 5, 5)
        assert owner.controls()["snooze_until"] is not None
        paused = owner.next_start(snoozed)
        assert (paused["alerted"], paused["suppressed_by"]) == (False, "snoozed")

        # Snooze ended, recording off: alerts again, without a clip.
        owner.set("snooze", "0")
        no_clips = owner.set("recording", "OFF")
        unrecorded = owner.next_start(no_clips)
        assert (unrecorded["alerted"], unrecorded["clip"]) == (True, None)

        # Privacy: frames keep coming (stats), nothing is looked at, nothing recorded.
        owner.set("recording", "ON")
        private = owner.set("privacy", "ON")
        assert wait_until(lambda: owner.stats().get("privacy") is True, 5)
        clips_before = clip_names(tmp_path / "state")
        frames = owner.stats()["frames"]
        assert wait_until(lambda: owner.stats()["frames"] >= frames + 2 * 80, 30)  # two loops
        events_during = [m for m in subscriber.on("/events") if m.at > private.at + SETTLE_S]
        assert [e.json()["type"] for e in events_during if e.json()["type"] != "end"] == []
        assert clip_names(tmp_path / "state") - clips_before == set()  # no clip started
        watching = owner.set("privacy", "OFF")
        back = owner.next_start(watching)
        assert back["alerted"] is True and back["clip"] is not None

        # A bad payload: one log line and a retained error; a flood of them changes nothing.
        owner.command("armed", "maybe")
        assert subscriber.wait_for(lambda s: bool(s.on("/controls/error")), 10)
        error = subscriber.on("/controls/error")[-1]
        assert (error.json()["control"], error.json()["payload"]) == ("armed", "maybe")
        assert "expected ON or OFF" in error.json()["error"]
        assert owner.state("armed").payload == b"ON"  # type: ignore[union-attr]
        flood_started = time.monotonic()
        owner_flood(broker)
        flood_s = time.monotonic() - flood_started
        after_flood = owner.set("sensitivity", "high")
        assert owner.next_start(after_flood)["alerted"] is True
        assert owner.state("armed").payload == b"ON"  # type: ignore[union-attr]
        assert wait_until(lambda: owner.stats()["commands_refused"] == 1001, 5)
        refusal_lines = camera.output().count("ignored: expected ON or OFF")
        assert refusal_lines <= 2 + int(flood_s), refusal_lines  # at most about one a second

        # What the owner leaves is what a restart brings back.
        owner.set("threshold/person", "0.6")
        owner.set("armed", "OFF")
        owner.set("recording", "OFF")
        owner.set("snooze", "30")
        assert camera.stop() == 0
        owner.clear_retained_state()
        owner.command("privacy", "ON", retain=True)  # a retained command must not be obeyed
        subscriber.messages.clear()
        camera.start()
        assert wait_until(owner.has_every_state, 90), camera.output()
        restored = {c: owner.state(c).payload.decode() for c in STATE_TOPICS}  # type: ignore[union-attr]
        assert int(restored.pop("snooze")) in (29, 30)
        assert restored == {
            "armed": "OFF", "privacy": "OFF", "recording": "OFF",
            "sensitivity": "high", "threshold/person": "0.6",
        }  # fmt: skip
        after_restart = owner.next_start(owner.state("armed"), timeout=60)  # type: ignore[arg-type]
        assert (after_restart["suppressed_by"], after_restart["clip"]) == ("disarmed", None)
        assert "ignoring the retained message on ronda/test/privacy/set" in camera.output()
        assert camera.stop() == 0
        status = ronda("status", "--config", camera.config, timeout=60)
        assert (
            "DISARMED, snoozed " in status.stdout
            and ", clips off, sensitivity high" in status.stdout
        )
    finally:
        subscriber.stop()
        mqtt_publish.single(
            f"{PREFIX}/privacy/set", None, retain=True, hostname=broker.host, port=broker.port
        )


def clip_names(state_dir: Path) -> set[str]:
    """The clips in the store's folder by name (a clip closing at privacy becomes
    ``<name>.mp4.tmp`` then ``<name>.mp4`` after being ``<name>.part.ts``: still one clip)."""
    return {path.name.split(".")[0] for path in (state_dir / "clips").glob("*")}


def owner_flood(broker: Mosquitto) -> None:
    """1,000 invalid commands as fast as one client can send them."""
    messages = [
        {"topic": f"{PREFIX}/armed/set", "payload": f"flood {n}", "qos": 1} for n in range(1000)
    ]
    mqtt_publish.multiple(messages, hostname=broker.host, port=broker.port)

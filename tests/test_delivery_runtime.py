"""The whole Runtime (real detector, real scene) against a real mosquitto: a broker outage in the
middle of a replay, and the retained stats message that Home Assistant's sensors read."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from camera.app import RunOptions, Runtime, replay_files
from camera.config import RondaConfig, parse_config
from camera.events import EventUpdate
from camera.mqtt.discovery import STAT_SENSORS
from camera.pipeline.loop import FrameOutcome
from camera.sources import open_replay
from camera.store import local_midnight
from tests.broker import Mosquitto, Subscriber
from tests.conftest import CANARY_PASSWORD
from tests.test_governor_sensors import power_supply, thermal_zone

pytestmark = pytest.mark.slow


class Recorder:
    """An extra sink: exactly what the pipeline produced, JSON bytes and thumbnails."""

    def __init__(self) -> None:
        self.updates: list[EventUpdate] = []
        self.payloads: list[bytes] = []
        self.thumbnails: dict[str, list[bytes]] = {}

    def emit(self, update: EventUpdate, thumbnail: bytes | None) -> None:
        self.updates.append(update)
        self.payloads.append(update.to_json().encode())
        if thumbnail and update.thumbnail_topic:
            self.thumbnails.setdefault(update.thumbnail_topic, []).append(thumbnail)

    def keys(self) -> list[tuple[str, int]]:
        return [(u.id, u.sequence) for u in self.updates]

    def close(self) -> None:
        pass


def config_for(tmp_path: Path, broker: Mosquitto, **sections: dict) -> RondaConfig:
    data: dict = {
        "camera": {"name": "test"},
        "store": {"path": str(tmp_path / "state")},
        "mqtt": {
            "host": broker.host,
            "port": broker.port,
            "reconnect_min_s": 0.1,
            "reconnect_max_s": 0.5,
            "drain_timeout_s": 30,
            "password": CANARY_PASSWORD,
        },
        "governor": {"enabled": False},
    }
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    return parse_config(data)


def test_broker_outage_in_the_middle_of_a_replay_loses_nothing(
    tmp_path: Path, persistent_broker: Mosquitto, phone: Subscriber, demo_scene: Path
) -> None:
    recorder = Recorder()
    outage: list[str] = []
    queued_in_outage: list[int] = []
    made_in_outage: list[int] = []

    def break_the_broker(outcome: FrameOutcome) -> None:
        """Down at the first event's start, up again when the second event starts."""
        for update in outcome.updates:
            if update.type != "start":
                continue
            if not outage:
                persistent_broker.stop()
                outage.append("down")
                made_in_outage.append(-len(recorder.updates))
            elif outage == ["down"]:
                queued_in_outage.append(runtime.outbox.depth())
                made_in_outage[0] += len(recorder.updates)
                persistent_broker.start()
                outage.append("up")

    runtime = Runtime(
        config_for(tmp_path, persistent_broker),
        RunOptions(extra_sinks=[recorder], hooks=[break_the_broker]),
    )
    try:
        replay_files(runtime, [open_replay(demo_scene)], stop=_never())
    finally:
        left = runtime.close()
    assert outage == ["down", "up"], "the scene must start two events"
    # Everything made while the broker was down waits in the outbox (the first start may or may
    # not have been acknowledged before the broker went: that depends on the machine's speed).
    assert made_in_outage[0] >= 1, "the second event's start comes during the outage"
    assert queued_in_outage[0] >= made_in_outage[0]
    assert left == 0
    produced = recorder.keys()
    assert len(produced) >= 4
    # Every event update arrived, in order; duplicates only ever repeat a message in flight.
    assert phone.wait_for(lambda s: s.unique_event_keys() == produced, timeout=30)
    # Byte for byte what was produced: the original event times, not the delivery time.
    received = {m.payload for m in phone.on("/events")}
    assert received == set(recorder.payloads)
    # Every thumbnail too, on the topic its event JSON names.
    for topic, images in recorder.thumbnails.items():
        expected = set(images)
        assert phone.wait_for(lambda s, t=topic, e=expected: {m.payload for m in s.on(t)} == e)
    assert len({m.topic for m in phone.thumbnails()}) == len(recorder.thumbnails)


def test_stats_message_carries_what_the_sensors_read(
    tmp_path: Path, broker: Mosquitto, subscriber: Subscriber, demo_scene: Path
) -> None:
    sysfs = tmp_path / "sys"
    thermal_zone(sysfs, 0, "cpu-thermal", "61500")
    power_supply(sysfs, "BAT0", type="Battery", capacity="80", status="Discharging")
    governor = {
        "enabled": True,
        "sensors": {
            "sysfs_root": str(sysfs),
            "vcgencmd": str(tmp_path / "no-vcgencmd"),
            "throttle": {"enabled": False},
        },
    }
    config = config_for(tmp_path, broker, governor=governor, mqtt={"stats_interval_s": 1})
    runtime = Runtime(config, RunOptions())
    try:
        replay_files(runtime, [open_replay(demo_scene)], stop=_never())
        runtime.drain()
    finally:
        runtime.close()

    stats = [m for m in subscriber.on("/stats")]
    assert len(stats) >= 2  # published every interval during the replay, and at the end
    late = Subscriber(broker.host, broker.port, topic="ronda/test/stats").start()
    assert late.wait_for(lambda s: bool(s.messages))
    assert late.messages[0].retain
    late.stop()
    payload = json.loads(stats[-1].payload)
    for sensor in STAT_SENSORS:  # every Home Assistant sensor finds its key
        assert sensor.key in payload, sensor.key
    assert payload["soc_temp_c"] == pytest.approx(61.5)
    assert payload["battery_pct"] == pytest.approx(80.0)
    assert payload["governor_level"] == "normal"
    assert payload["light_state"] == "day" and payload["light"]["night"] is False  # the room
    assert payload["governor"]["readings"]["soc_temp_c"] == pytest.approx(61.5)
    assert payload["fps"] > 0
    assert payload["detector_ms"] > 0
    assert 0 < payload["motion_share"] <= 1
    assert payload["events_today"] == 2  # the person and the cat
    assert payload["outbox_depth"] == 0


def test_local_midnight_is_today() -> None:
    noon = local_midnight(1_700_000_000.0) + 12 * 3600
    assert local_midnight(noon) == local_midnight(1_700_000_000.0)
    assert 0 <= noon - local_midnight(noon) == 12 * 3600


def _never() -> threading.Event:
    return threading.Event()

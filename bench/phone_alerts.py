"""Phone alerts: from the frame that made an event to the push reaching the phone's push URL.

Everything real and local, in one process plus Home Assistant's: a mosquitto on a free loopback
port, Home Assistant 2024.1 (``.venv-ha``, built by ``tests/homeassistant/setup_ha.sh``) with the
MQTT integration, one phone registered through ``mobile_app`` and one automation from Ronda's
blueprint (person and pet, updates on, no cooldown, no quiet hours: every start and update is
pushed), and the real Runtime replaying footage **in real time** so the clock means what it
would on a camera.

For every pushed update, from the moment its frame left the source:

* ``ronda``: to the alert sink being handed the update (motion, detector, tracker, thumbnail);
* ``mqtt``: to a plain MQTT subscriber having the event JSON.  This is the **baseline**: what an
  MQTT phone app gets, in the same run;
* ``push``: to Home Assistant's POST arriving at the phone's push URL (the blueprint's trigger,
  conditions, templates and ``notify.mobile_app_*``); the ratio is ``push / mqtt``.

The push relay, Google's or Apple's delivery and the phone's image fetch come after and are not
measured here.  Run from the repo root:
``.venv/bin/python bench/phone_alerts.py [--clip PATH ...] [--repeat N]`` (default: the demo scene
twice, then the one-by-one clip: about three minutes).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.*: the helpers

from bench.delivery import Stamped, percentile
from camera.app import RunOptions, Runtime
from camera.config import parse_config
from camera.demo import build_scene
from camera.events import EventUpdate
from camera.pipeline.loop import FrameOutcome
from camera.sources import open_replay
from tests.broker import Mosquitto, Subscriber, wait_until
from tests.homeassistant.alerts import (
    create_automation,
    install_blueprint,
    phone_alert_home_assistant,
)
from tests.homeassistant.harness import HomeAssistant, ha_venv, venv_problem
from tests.homeassistant.phone import PushGateway

DEFAULT_CLIP = Path("tests/footage/clips/intel_one-by-one-person-detection.mp4")
CAMERA = "bench"
Key = tuple[str, int]


def run(clips: list[Path], workdir: Path) -> dict[str, list[float]]:
    broker = Mosquitto(workdir)
    broker.start()
    ha = phone_alert_home_assistant(ha_venv(), workdir / "home-assistant", "UTC")
    gateway = PushGateway().start()
    subscriber = Subscriber(broker.host, broker.port, topic=f"ronda/{CAMERA}/events").start()
    try:
        ha.start()
        ha.add_mqtt(broker.host, broker.port)
        install_blueprint(ha)
        phone = ha.register_phone("bench", gateway.url("bench"))
        return replay(clips, workdir, broker, ha, phone, gateway, subscriber)
    finally:
        subscriber.stop()
        gateway.stop()
        ha.stop()
        broker.stop()


def replay(
    clips: list[Path],
    workdir: Path,
    broker: Mosquitto,
    ha: HomeAssistant,
    phone: str,
    gateway: PushGateway,
    subscriber: Subscriber,
) -> dict[str, list[float]]:
    frame_at: dict[Key, float] = {}
    emit_at: dict[Key, float] = {}
    pushed: dict[Key, str] = {}  # (id, sequence) of every start/update of a person or pet
    stamped: list[Stamped] = []

    def note_frame(outcome: FrameOutcome) -> None:
        for update in outcome.updates:
            frame_at[(update.id, update.sequence)] = stamped[-1].stamps[outcome.frame.index]

    config = parse_config(
        {
            "camera": {"name": CAMERA},
            "store": {"path": str(workdir / "state")},
            "mqtt": {"host": broker.host, "port": broker.port},
            "governor": {"enabled": False},
        }
    )
    runtime = Runtime(config, RunOptions(hooks=[note_frame], use_governor=False))
    alert_sink = runtime.alert_sink
    assert alert_sink is not None
    queue_alert = alert_sink.emit

    def timed_emit(update: EventUpdate, thumbnail: bytes | None) -> None:
        """Ronda's part ends when the alert sink (the first sink) is handed the update."""
        key = (update.id, update.sequence)
        emit_at[key] = time.monotonic()
        if update.type != "end" and update.label in ("person", "pet"):
            pushed[key] = update.id
        queue_alert(update, thumbnail)

    alert_sink.emit = timed_emit  # type: ignore[method-assign]
    try:
        if not ha.wait_for_state(f"binary_sensor.ronda_{CAMERA}_person", timeout=30):
            raise RuntimeError(f"Home Assistant did not discover the camera:\n{ha.log_tail()}")
        camera = ha.template(f"{{{{ device_id('binary_sensor.ronda_{CAMERA}_person') }}}}")
        inputs = {"cameras": [camera], "phones": [phone], "labels": ["person", "pet"]}
        create_automation(ha, "bench", {**inputs, "cooldown": 0}, broker)
        for clip in clips:
            stamped.append(Stamped(open_replay(clip, realtime=True)))
            runtime.run_source(stamped[-1], threading.Event())
    finally:
        runtime.close()
    if not wait_until(lambda: len(gateway.pushes("bench")) >= len(pushed), 60, interval=0.1):
        print(f"only {len(gateway.pushes('bench'))} of {len(pushed)} pushes arrived")
    # Pushes carry the event's tag; the n-th push of a tag is the n-th pushed update of it.
    push_at: dict[Key, float] = {}
    for event_id in set(pushed.values()):
        keys = sorted(k for k in pushed if k[0] == event_id)
        arrivals = [p.at for p in gateway.pushes("bench") if p.tag == f"ronda-{event_id}"]
        push_at.update(zip(keys, arrivals, strict=False))
    mqtt_at: dict[Key, float] = {}
    for message in subscriber.on("/events"):
        event = message.json()
        mqtt_at.setdefault((event["id"], event["sequence"]), message.at)
    keys = sorted(k for k in pushed if k in push_at and k in mqtt_at)
    return {
        "ronda": [1000 * (emit_at[k] - frame_at[k]) for k in keys],
        "mqtt": [1000 * (mqtt_at[k] - frame_at[k]) for k in keys],
        "push": [1000 * (push_at[k] - frame_at[k]) for k in keys],
        "ha": [1000 * (push_at[k] - mqtt_at[k]) for k in keys],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clip", type=Path, action="append", help="footage (repeatable)")
    parser.add_argument("--repeat", type=int, default=1, help="replay the list N times")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if problem := venv_problem(ha_venv()):
        print(problem)
        return 1
    with tempfile.TemporaryDirectory(prefix="ronda-bench-alerts-") as tmp:
        workdir = Path(tmp)
        clips = args.clip or [build_scene(workdir / "demo-scene")] * 2 + [DEFAULT_CLIP]
        load = os.getloadavg()[0]
        result = run(clips * args.repeat, workdir)
        load = max(load, os.getloadavg()[0])
    print(f"clips: {', '.join(c.name for c in clips)} x{args.repeat}, real time")
    print(f"pushed updates measured: {len(result['push'])}; load average up to {load:.2f}")
    print(f"{'from the frame to':<42}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
    names = {
        "ronda": "Ronda's alert sink (processing)",
        "mqtt": "an MQTT subscriber (baseline)",
        "push": "the phone's push URL via Home Assistant",
        "ha": "  of which Home Assistant (mqtt -> push)",
    }
    for key, name in names.items():
        values = result[key]
        if values:
            print(
                f"{name:<42}{percentile(values, 0.5):9.0f}{percentile(values, 0.95):9.0f}"
                f"{max(values):9.0f}"
            )
    if result["push"] and result["mqtt"]:
        ratio = percentile(result["push"], 0.5) / max(percentile(result["mqtt"], 0.5), 1e-3)
        print(f"push / baseline (p50): {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

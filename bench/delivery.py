"""Alert delivery: latency through the durable outbox, and how fast a backlog drains.

Against a local mosquitto started here (on a free loopback port), in one process:

* **latency**: a real replay through the real Runtime (detector, tracker, thumbnails, outbox,
  MQTT link).  For every event update made from a frame: from the moment that frame left the
  source to the moment a subscriber had the event JSON (``frame->sub``), and from the sink's
  emit to the subscriber (``emit->sub``).  Baseline: the same JSON published by a plain paho
  client (``loop_start``, QoS 1, no disk) from a sink in the same pipeline.
* **drain**: 1,000 events (JSON plus a real thumbnail each: 2,000 messages) queued on disk while
  the broker is down; the broker starts and the outbox drains.  Messages/s from the broker's
  start to the last row acknowledged (deleted), and to the subscriber having all of them.
  Baseline: a plain paho client publishing the same 2,000 messages (QoS 1, same in-flight window)
  and waiting for every PUBACK.  Also the process's CPU time for queueing plus drain, which a
  busy machine barely moves (wall-clock rates vary by a factor of two with the load).

Run from the repo root: ``.venv/bin/python bench/delivery.py [--clip PATH ...] [--events N]
[--protocol 5|3.1.1]``.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.broker: the helpers

from camera.app import RunOptions, Runtime
from camera.config import parse_config
from camera.events import EventUpdate
from camera.mqtt import MqttConfig, MqttLink, Topics
from camera.pipeline.loop import FrameOutcome
from camera.sources import FrameSource, open_replay
from camera.store import Database, Outbox, OutboxConfig, OutgoingMessage
from camera.types import Frame
from tests.broker import Mosquitto, Subscriber, wait_until

DEFAULT_CLIP = Path("tests/footage/clips/intel_one-by-one-person-detection.mp4")
PREFIX = "ronda/bench"
BASELINE_PREFIX = "baseline/bench"


class Stamped:
    """A source that notes when each frame left it: the start of the latency clock."""

    def __init__(self, source: FrameSource) -> None:
        self.source = source
        self.name = source.name
        self.live = source.live
        self.stamps: dict[int, float] = {}

    def frames(self) -> Iterator[Frame]:
        for frame in self.source.frames():
            self.stamps[frame.index] = time.monotonic()
            yield frame

    def set_fps(self, fps: float | None) -> None:
        self.source.set_fps(fps)

    def close(self) -> None:
        self.source.close()


@dataclass
class Timeline:
    """Per (event id, sequence): frame time, emit time into each path, kind."""

    frame_at: dict[tuple[str, int], float] = field(default_factory=dict)
    emit_at: dict[tuple[str, int], float] = field(default_factory=dict)
    outbox_emit_at: dict[tuple[str, int], float] = field(default_factory=dict)
    kind: dict[tuple[str, int], str] = field(default_factory=dict)


class PlainPahoSink:
    """Baseline: publish the event JSON straight from the frame loop with paho, no disk."""

    def __init__(self, port: int, timeline: Timeline) -> None:
        self.timeline = timeline
        self.client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def emit(self, update: EventUpdate, thumbnail: bytes | None) -> None:
        key = (update.id, update.sequence)
        self.timeline.emit_at.setdefault(key, time.monotonic())
        self.timeline.kind[key] = update.type
        self.client.publish(f"{BASELINE_PREFIX}/events", update.to_json().encode(), qos=1)
        if thumbnail:
            self.client.publish(f"{BASELINE_PREFIX}/events/{update.id}/thumbnail", thumbnail, qos=1)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def latency(
    clips: list[Path], workdir: Path, broker: Mosquitto, protocol: str
) -> tuple[dict, bytes]:
    subscriber = Subscriber(broker.host, broker.port, topic="#").start()
    timeline = Timeline()
    baseline = PlainPahoSink(broker.port, timeline)
    thumbnail = b""

    class Thumbnails:
        def emit(self, update: EventUpdate, image: bytes | None) -> None:
            nonlocal thumbnail
            thumbnail = image or thumbnail

        def close(self) -> None:
            pass

    stamped: list[Stamped] = []

    def note_frame(outcome: FrameOutcome) -> None:
        for update in outcome.updates:
            timeline.frame_at[(update.id, update.sequence)] = stamped[-1].stamps[
                outcome.frame.index
            ]

    config = parse_config(
        {
            "camera": {"name": "bench"},
            "store": {"path": str(workdir / "latency")},
            "mqtt": {"host": broker.host, "port": broker.port, "protocol": protocol},
            "governor": {"enabled": False},
        }
    )
    runtime = Runtime(config, RunOptions(extra_sinks=[baseline, Thumbnails()], hooks=[note_frame]))
    assert runtime.link is not None and runtime.link.connected.wait(10)
    alert_sink = runtime.alert_sink
    assert alert_sink is not None
    queue_alert = alert_sink.emit

    def timed_emit(update: EventUpdate, image: bytes | None) -> None:
        """The outbox path's clock starts when the alert sink is handed the update."""
        timeline.outbox_emit_at.setdefault((update.id, update.sequence), time.monotonic())
        queue_alert(update, image)

    alert_sink.emit = timed_emit  # type: ignore[method-assign]
    started = time.monotonic()
    for clip in clips:
        stamped.append(Stamped(open_replay(clip)))
        runtime.run_source(stamped[-1], threading.Event())
    runtime.close()
    replay_s = time.monotonic() - started
    keys = list(timeline.frame_at)
    wait_until(lambda: len(subscriber.on("/events")) >= 2 * len(timeline.emit_at), timeout=30)
    arrived: dict[str, dict[tuple[str, int], float]] = {PREFIX: {}, BASELINE_PREFIX: {}}
    for message in subscriber.on("/events"):
        prefix = message.topic.rsplit("/", 1)[0]
        event = message.json()
        arrived[prefix].setdefault((event["id"], event["sequence"]), message.at)
    subscriber.stop()
    result = {"replay_s": replay_s, "updates": len(timeline.emit_at), "from_frames": len(keys)}
    emitted = {"outbox": timeline.outbox_emit_at, "paho": timeline.emit_at}
    for name, prefix in (("outbox", PREFIX), ("paho", BASELINE_PREFIX)):
        got = arrived[prefix]
        result[name] = {
            "all": [1000 * (got[k] - timeline.frame_at[k]) for k in keys if k in got],
            "start": [
                1000 * (got[k] - timeline.frame_at[k])
                for k in keys
                if k in got and timeline.kind[k] == "start"
            ],
            "emit": [1000 * (got[k] - emitted[name][k]) for k in keys if k in got],
        }
    return result, thumbnail


def queue_backlog(outbox: Outbox, events: int, thumbnail: bytes) -> list[OutgoingMessage]:
    topics = Topics(PREFIX)
    messages: list[OutgoingMessage] = []
    for i in range(events):
        event_id = f"bench-{i:05d}"
        json_payload = (
            f'{{"id":"{event_id}","sequence":1,"type":"start","label":"person",'
            f'"thumbnail_topic":"{topics.thumbnail(event_id)}","frame_time":{i}.0}}'
        ).encode()
        pair = [
            OutgoingMessage(topics.events, json_payload, event_id=event_id),
            OutgoingMessage(topics.thumbnail(event_id), thumbnail, event_id=event_id),
        ]
        outbox.put(pair)
        messages.extend(pair)
    return messages


def drain_once(workdir: Path, events: int, thumbnail: bytes, protocol: str) -> dict:
    """One outage: a phone subscribed (persistent session), the broker stops, the backlog
    queues on disk, the broker starts, the outbox drains."""
    broker = Mosquitto(workdir, persistence=True)
    broker.start()
    phone = Subscriber(
        broker.host, broker.port, topic=f"{PREFIX}/#", client_id="phone", clean_session=False
    ).start()
    broker.stop()
    logging.getLogger("camera.mqtt.link").setLevel(logging.CRITICAL)  # the outage is planned
    config = MqttConfig(
        host=broker.host,
        port=broker.port,
        reconnect_min_s=0.05,
        reconnect_max_s=0.2,
        protocol=protocol,  # type: ignore[arg-type]
    )
    database = Database(workdir / "drain.sqlite3")
    outbox = Outbox(database, OutboxConfig())
    link = MqttLink(config, outbox, client_id="ronda-bench", will_topic=Topics(PREFIX).availability)
    link.start()  # the broker is down: everything queues on disk
    cpu_started = time.process_time()
    started = time.monotonic()
    messages = queue_backlog(outbox, events, thumbnail)
    queue_s = time.monotonic() - started
    broker.start()
    up = time.monotonic()
    assert link.connected.wait(10)
    connected = time.monotonic()
    assert wait_until(lambda: outbox.depth() == 0, 600), "the outbox did not drain"
    drained = time.monotonic()
    cpu_s = time.process_time() - cpu_started
    wait_until(lambda: len(phone.on("/events")) + len(phone.thumbnails()) >= len(messages), 60)
    received = time.monotonic()
    link.stop()
    events_received = len(set(phone.event_keys()))
    phone.stop()
    database.close()
    broker.stop()
    return {
        "messages": len(messages),
        "megabytes": sum(len(m.payload) for m in messages) / 1e6,
        "queue_s": queue_s,
        "connect_s": connected - up,
        "drain_s": drained - connected,
        "receive_s": received - connected,
        "cpu_s": cpu_s,
        "received_events": events_received,
        "payloads": messages,
    }


def plain_paho_once(workdir: Path, messages: list[OutgoingMessage], window: int) -> dict:
    """Baseline: plain paho, same messages, same in-flight window, no disk."""
    broker = Mosquitto(workdir)
    broker.start()
    phone = Subscriber(broker.host, broker.port, topic=f"{PREFIX}/#").start()
    client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    client.max_inflight_messages_set(window)
    client.connect(broker.host, broker.port)
    client.loop_start()
    started = time.monotonic()
    infos = [client.publish(m.topic, m.payload, qos=1) for m in messages]
    for info in infos:
        info.wait_for_publish(60)
    acked = time.monotonic()
    wait_until(lambda: len(phone.messages) >= len(messages), 60)
    received = time.monotonic()
    client.loop_stop()
    client.disconnect()
    phone.stop()
    broker.stop()
    return {"drain_s": acked - started, "receive_s": received - started}


def drain(workdir: Path, events: int, thumbnail: bytes, repeat: int, protocol: str) -> dict:
    """Medians over ``repeat`` runs of each (the machine may be busy with something else)."""
    runs, plains = [], []
    for index in range(repeat):
        folder = workdir / f"drain-{index}"
        folder.mkdir()
        runs.append(drain_once(folder, events, thumbnail, protocol))
        (folder / "plain").mkdir()
        window = MqttConfig().max_inflight
        plains.append(plain_paho_once(folder / "plain", runs[-1]["payloads"], window))
    result = {key: runs[0][key] for key in ("messages", "megabytes")}
    for key in ("queue_s", "connect_s", "drain_s", "receive_s", "cpu_s"):
        result[key] = statistics.median(run[key] for run in runs)
    result["received_events"] = min(run["received_events"] for run in runs)
    result["plain_s"] = statistics.median(p["drain_s"] for p in plains)
    result["plain_receive_s"] = statistics.median(p["receive_s"] for p in plains)
    result["repeat"] = repeat
    return result


def show_latency(result: dict) -> None:
    print(
        f"latency: {result['updates']} event updates ({result['from_frames']} made from a frame) "
        f"in a {result['replay_s']:.0f} s replay"
    )
    print(f"{'ms':<34}{'p50':>9}{'p95':>9}{'max':>9}{'n':>5}")
    for name, label in (("outbox", "Ronda (outbox, link thread)"), ("paho", "plain paho, no disk")):
        for kind, what in (
            ("start", "frame->sub, starts"),
            ("all", "frame->sub, all"),
            ("emit", "emit->sub"),
        ):
            values = result[name][kind]
            if values:
                print(
                    f"{label + ': ' + what:<34}{statistics.median(values):>9.1f}"
                    f"{percentile(values, 0.95):>9.1f}{max(values):>9.1f}{len(values):>5}"
                )


def show_drain(result: dict) -> None:
    n = result["messages"]
    print(
        f"drain: {n} messages ({n // 2} events + thumbnails, {result['megabytes']:.1f} MB) "
        f"queued on disk in {result['queue_s']:.1f} s while the broker was down; "
        f"medians of {result['repeat']} runs"
    )
    print(f"reconnect after the broker came back: {result['connect_s']:.2f} s (backoff)")
    print(f"{'':<44}{'seconds':>9}{'msgs/s':>10}{'MB/s':>8}")
    for label, seconds in (
        ("Ronda outbox: connected -> all acked+deleted", result["drain_s"]),
        ("Ronda outbox: connected -> all received", result["receive_s"]),
        ("plain paho, no disk: publish -> all acked", result["plain_s"]),
        ("plain paho, no disk: publish -> all received", result["plain_receive_s"]),
    ):
        throughput = result["megabytes"] / seconds
        print(f"{label:<44}{seconds:>9.2f}{n / seconds:>10.0f}{throughput:>8.1f}")
    print(f"outbox drain rate / plain paho rate: {result['plain_s'] / result['drain_s']:.2f}")
    print(
        f"CPU time of this process, queueing + drain (all threads; robust to the machine's "
        f"load): {result['cpu_s']:.2f} s"
    )
    print(f"events received by the subscriber: {result['received_events']} of {n // 2}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", type=Path, action="append", help="default: the one-by-one clip")
    parser.add_argument("--events", type=int, default=1000, help="backlog size (default 1000)")
    parser.add_argument("--repeat", type=int, default=3, help="drain runs (median; default 3)")
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--protocol", choices=("5", "3.1.1"), default="5", help="Ronda's MQTT")
    args = parser.parse_args()
    clips = args.clip or [DEFAULT_CLIP]
    for clip in clips:
        if not clip.exists():
            sys.exit(f"clip {clip} not found (run from the repo root)")
    with tempfile.TemporaryDirectory(prefix="ronda-bench-") as scratch:
        workdir = Path(scratch)
        thumbnail = b"\xff\xd8" + bytes(25_000)  # a typical thumbnail size, when not replaying
        if not args.skip_latency:
            (workdir / "latency-broker").mkdir()
            broker = Mosquitto(workdir / "latency-broker")
            broker.start()
            try:
                result, thumbnail = latency(clips, workdir, broker, args.protocol)
            finally:
                broker.stop()
            show_latency(result)
            print()
        show_drain(drain(workdir, args.events, thumbnail, args.repeat, args.protocol))


if __name__ == "__main__":
    main()

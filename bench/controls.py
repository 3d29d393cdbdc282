"""What the owner's controls cost the frame loop, and how fast a command takes effect.

Two measurements, one process, a real mosquitto (started here) and the real MQTT path
(``MqttLink`` + ``ControlTopics`` + ``Controls``):

* **frame loop**: the first frames of the one-by-one clip (decoded once, kept in memory) through
  the real pipeline with the int8 detector, three ways, interleaved over several rounds:
  ``baseline`` (no controls attached), ``idle`` (controls attached, no command) and ``flood``
  (``mosquitto_pub`` in its own process publishing 1,000 ``armed`` commands a second, valid and
  invalid mixed, for the whole run).  Prints frames/s, the frame loop thread's CPU per frame and
  the whole process's CPU per frame (the MQTT and controls threads included), each as a ratio
  to the baseline (medians over the rounds).  CPU time is what a loaded machine does not
  distort; frames/s is.
* **latency**: a frame loop paced at 10 fps (a camera) with the controls attached; ``armed`` is
  toggled over MQTT, one command at a time; for each: publish -> the state swapped in
  ``Controls`` (the MQTT path), publish -> the first frame that applies it (what the camera
  does), and publish -> the retained state back at a subscriber (what Home Assistant shows).
  Baseline: a plain MQTT echo (publish -> the same client receives it) in the same run.
  Prints p50 and p95 in ms and the p95 ratios to the echo.

Run from the repo root: ``.venv/bin/python bench/controls.py [--rounds 6] [--commands 200]``.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.broker: the helpers

from camera.app import first_controls, stage_configs
from camera.config import RondaConfig, parse_config
from camera.controls import Controls, ControlState
from camera.detect import Detector, DetectorConfig, load_detector
from camera.mqtt import MqttConfig, MqttLink, Topics
from camera.mqtt.commands import ControlTopics
from camera.pipeline import FrameOutcome, Pipeline
from camera.pipeline.loop import FrameHook
from camera.sources import open_replay
from camera.store import Database, Outbox
from camera.types import Frame
from tests.broker import Mosquitto, wait_until

CLIP = Path("tests/footage/clips/intel_one-by-one-person-detection.mp4")
TOPICS = Topics("ronda/bench")


def client(broker: Mosquitto, name: str) -> paho.Client:
    made = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=name)
    connected = threading.Event()
    made.on_connect = lambda *args: connected.set()
    made.connect(broker.host, broker.port)
    made.loop_start()
    if not connected.wait(10):
        sys.exit("bench client could not connect")
    return made


class Camera:
    """The controls of one camera on the broker, as ``Runtime`` wires them."""

    def __init__(self, broker: Mosquitto, workdir: Path) -> None:
        config = parse_config({})
        self.controls = Controls(first_controls(config), workdir)
        mqtt = MqttConfig(host=broker.host, port=broker.port)
        self.link = MqttLink(
            mqtt,
            Outbox(Database(workdir / "bench.sqlite3"), mqtt.outbox),
            client_id="ronda-bench",
            will_topic=TOPICS.availability,
        )
        ControlTopics(self.link, TOPICS, self.controls)
        self.controls.start()
        self.link.start()
        if not wait_until(
            lambda: self.link.connected.is_set() and not self.link.subscriptions.busy(), 10
        ):
            sys.exit("the link did not connect")

    def stop(self) -> None:
        self.link.stop()
        self.controls.stop()


def pipeline(
    config: RondaConfig,
    camera: Camera | None,
    detector: Detector | None,
    hooks: Iterable[FrameHook] = (),
) -> Pipeline:
    made = Pipeline(
        camera="bench",
        topic_prefix=TOPICS.prefix,
        stages=stage_configs(config),
        detector=detector,
        sinks=[],
        controls=camera.controls if camera is not None else None,
        hooks=hooks,
    )
    made.begin_stream("bench")
    return made


class Flood:
    """``mosquitto_pub -l`` in its own process publishing ``rate`` commands a second on
    ``armed/set`` until stopped (its CPU is not this process's): every tenth a valid ON/OFF,
    the rest invalid (each refused, with a retained error)."""

    def __init__(self, broker: Mosquitto, rate: float = 1000.0) -> None:
        self.process = subprocess.Popen(
            ["mosquitto_pub", "-h", broker.host, "-p", str(broker.port), "-q", "0", "-l",
             "-t", TOPICS.control_command("armed")],
            stdin=subprocess.PIPE,
        )  # fmt: skip
        self.rate = rate
        self.sent = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Flood:
        self._thread.start()
        return self

    def _run(self) -> None:
        assert self.process.stdin is not None
        started = time.monotonic()
        while not self._stop.wait(0.01):  # ten lines every 10 ms
            due = int((time.monotonic() - started) * self.rate)
            lines = []
            for n in range(self.sent, due):
                lines.append(("ON" if n % 20 < 10 else "OFF") if n % 10 == 0 else "??")
            self.process.stdin.write(("\n".join(lines) + "\n").encode() if lines else b"")
            self.process.stdin.flush()
            self.sent = due

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=10)


def frame_loop(frames: list[Frame], broker: Mosquitto, workdir: Path, rounds: int) -> None:
    config = RondaConfig()
    detector = load_detector(DetectorConfig(variant="picodet-s416-float32"), rungs=1)
    camera = Camera(broker, workdir)
    names = ["baseline", "idle", "flood"]
    wall: dict[str, list[float]] = {name: [] for name in names}
    loop_cpu: dict[str, list[float]] = {name: [] for name in names}
    process_cpu: dict[str, list[float]] = {name: [] for name in names}
    flood_rates: list[float] = []

    def run(name: str) -> None:
        loop = pipeline(config, None if name == "baseline" else camera, detector)
        started, thread0, process0 = time.perf_counter(), time.thread_time(), time.process_time()
        for frame in frames:
            loop.process(frame)
        loop.end_stream()
        count = len(frames)
        wall[name].append(count / (time.perf_counter() - started))
        loop_cpu[name].append((time.thread_time() - thread0) / count * 1000)
        process_cpu[name].append((time.process_time() - process0) / count * 1000)

    try:
        run("baseline")  # warm-up: the detector's first calls, the allocator
        for name in names:
            wall[name].clear()
            loop_cpu[name].clear()
            process_cpu[name].clear()
        for round_index in range(rounds):  # the order rotates: no variant always runs first
            for name in names[round_index % 3 :] + names[: round_index % 3]:
                if name != "flood":
                    run(name)
                    continue
                with Flood(broker) as flood:
                    flood_started = time.monotonic()
                    run(name)
                    seconds = time.monotonic() - flood_started
                flood_rates.append(flood.sent / seconds)
    finally:
        camera.stop()
        detector.close()
    print(f"frame loop, {len(frames)} frames of {CLIP.name}, int8 416, median of {rounds} rounds")
    base = {key: statistics.median(values["baseline"]) for key, values in
            (("wall", wall), ("loop", loop_cpu), ("process", process_cpu))}  # fmt: skip
    for name in names:
        fps = statistics.median(wall[name])
        loop_ms = statistics.median(loop_cpu[name])
        process_ms = statistics.median(process_cpu[name])
        print(
            f"  {name:<9} {fps:6.1f} frames/s ({fps / base['wall']:5.3f})   "
            f"loop thread CPU {loop_ms:6.2f} ms/frame ({loop_ms / base['loop']:5.3f})   "
            f"process CPU {process_ms:6.2f} ms/frame ({process_ms / base['process']:5.3f})"
        )
    print(
        f"  flood: {statistics.median(flood_rates):.0f} commands/s published; "
        f"{camera.controls.applied} applied, {camera.controls.refused} refused in all"
    )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def latency(frames: list[Frame], broker: Mosquitto, workdir: Path, commands: int) -> None:
    camera = Camera(broker, workdir)
    marks: dict[str, float] = {}
    swapped, applied, state_seen, echo_seen = (threading.Event() for _ in range(4))
    want = {"armed": True}
    change = camera.controls.change

    def timed_change(control: str, payload: str, source: str) -> ControlState:
        state = change(control, payload, source)  # the one function, timed where it returns
        if state.armed == want["armed"]:
            marks["swap"] = time.monotonic()
            swapped.set()
        return state

    camera.controls.change = timed_change  # type: ignore[method-assign]

    def hook(outcome: FrameOutcome) -> None:
        state = loop.stage_choice.controls  # what this frame ran with
        if state is not None and state.armed == want["armed"] and not applied.is_set():
            marks["frame"] = time.monotonic()
            applied.set()

    loop = pipeline(RondaConfig(), camera, None, hooks=[hook])
    stop = threading.Event()

    def paced() -> None:  # a 10 fps camera
        index = 0
        while not stop.is_set():
            image = frames[index % len(frames)].image
            loop.process(Frame(image=image, timestamp=index / 10, index=index))
            index += 1
            stop.wait(0.1)

    sender = client(broker, "bench-sender")
    watcher = client(broker, "bench-watcher")

    def on_message(_c: object, _u: object, message: paho.MQTTMessage) -> None:
        if message.topic == TOPICS.control_state("armed"):
            if message.payload == (b"ON" if want["armed"] else b"OFF"):
                marks["state"] = time.monotonic()
                state_seen.set()
        elif message.topic == "bench/echo":
            marks["echo"] = time.monotonic()
            echo_seen.set()

    watcher.on_message = on_message
    watcher.subscribe([(TOPICS.control_state("armed"), 1), ("bench/echo", 1)])
    thread = threading.Thread(target=paced, daemon=True)
    thread.start()
    samples: dict[str, list[float]] = {"echo": [], "swap": [], "frame": [], "state": []}
    phase = random.Random(21)
    try:
        time.sleep(0.5)  # the subscription and the first frames
        for _ in range(commands):
            # A command comes at any moment of the frame period, not just after a frame.
            time.sleep(phase.uniform(0.0, 0.1))
            want["armed"] = not camera.controls.current.armed
            for event in (swapped, applied, state_seen, echo_seen):
                event.clear()
            sent = time.monotonic()
            sender.publish(TOPICS.control_command("armed"), "ON" if want["armed"] else "OFF", qos=1)
            for name, event in (("swap", swapped), ("frame", applied), ("state", state_seen)):
                if not event.wait(5):
                    sys.exit(f"no {name} within 5 s")
                samples[name].append(marks[name] - sent)
            sent = time.monotonic()
            sender.publish("bench/echo", "x", qos=1)
            echo_seen.wait(5)
            samples["echo"].append(marks["echo"] - sent)
    finally:
        stop.set()
        thread.join()
        for made in (sender, watcher):
            made.loop_stop()
            made.disconnect()
        camera.stop()
    base = percentile(samples["echo"], 0.95)
    print(f"latency over {commands} commands (armed ON/OFF over MQTT, frame loop at 10 fps)")
    for name, label in (
        ("echo", "MQTT echo (baseline)"),
        ("swap", "publish -> state swapped"),
        ("frame", "publish -> next frame applies it"),
        ("state", "publish -> retained state back"),
    ):
        values = samples[name]
        p50, p95 = percentile(values, 0.5) * 1000, percentile(values, 0.95) * 1000
        ratio = p95 / 1000 / base
        print(f"  {label:<34} p50 {p50:7.2f} ms  p95 {p95:7.2f} ms  p95 ratio {ratio:6.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=220, help="frames of the clip in memory")
    parser.add_argument(
        "--skip", type=int, default=60, help="frames the frame loop skips (an empty room)"
    )
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--commands", type=int, default=200, help="latency samples")
    args = parser.parse_args()
    if not CLIP.exists():
        sys.exit(f"clip {CLIP} not found (run from the repo root)")
    source = open_replay(CLIP)
    frames: list[Frame] = []
    for frame in source.frames():
        frames.append(Frame(image=frame.image.copy(), timestamp=frame.timestamp, index=frame.index))
        if len(frames) >= args.frames:
            break
    source.close()
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        broker = Mosquitto(workdir)
        broker.start()
        try:
            (workdir / "loop").mkdir()
            (workdir / "latency").mkdir()
            frame_loop(frames[args.skip :], broker, workdir / "loop", args.rounds)
            latency(frames, broker, workdir / "latency", args.commands)
        finally:
            broker.stop()


if __name__ == "__main__":
    main()

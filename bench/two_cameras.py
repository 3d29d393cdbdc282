"""Two cameras on one CPU: how they share it through each one's governor load level.

Each ``ronda run`` meters its own loop (wall time per processed frame x the source's full rate,
``camera.governor.load``).  On a shared CPU a frame takes longer in wall time while the other
camera works, so each camera's reading rises, and past 100 % its governor lowers its own frame
rate (``busy``: 5 fps, ``overloaded``: 2 fps): the two back off without talking to each other,
and neither starves, because each keeps the frames it processes evenly spaced.

The bench runs camera A alone, then A and B together, both times pinned to one core
(``taskset -c CPU``: one CPU's worth of quota), each looping the indoor clip (people walking in
and out: the detector runs often) as a live camera at 10 fps, and reads their retained stats
from a real mosquitto.  Prints per phase and camera: processed fps, loop load, governor level
(the most frequent), events; then A's fps and load together / alone.

Run from the repo root: ``.venv/bin/python bench/two_cameras.py [--seconds 60] [--cpu 0]``.
The machine's other work shares that core too: run it on a quiet machine, and compare the
phases of one run, not numbers across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

CLIP = Path("tests/footage/clips/intel_one-by-one-person-detection.mp4").resolve()
WARM_UP_S = 20.0
"""Model loading and the first governor decisions are left out of each phase's numbers."""
CONFIG = """\
camera:
  name: {name}
source:
  kind: file
  uri: {clip}
  loop: true
  fps: 10
store:
  path: {state}
mqtt:
  host: 127.0.0.1
  port: {port}
  stats_interval_s: 2
governor:
  interval_s: 2
web:
  enabled: false
logging:
  level: WARNING
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Stats:
    """Every camera's stats messages, as they arrive."""

    def __init__(self, port: int) -> None:
        self.lock = threading.Lock()
        self.seen: dict[str, list[tuple[float, dict]]] = {}
        self.events: Counter[str] = Counter()
        self.client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2)
        self.client.on_connect = lambda c, *a: c.subscribe(
            [("ronda/+/stats", 0), ("ronda/+/events", 1)]
        )
        self.client.on_message = self._message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _message(self, client, userdata, message) -> None:  # type: ignore[no-untyped-def]
        name = message.topic.split("/")[1]
        with self.lock:
            if message.topic.endswith("/events"):
                self.events[name] += 1
            else:
                self.seen.setdefault(name, []).append(
                    (time.monotonic(), json.loads(message.payload))
                )

    def window(self, name: str, since: float) -> list[dict]:
        with self.lock:
            return [payload for at, payload in self.seen.get(name, []) if at >= since]


def summary(payloads: list[dict]) -> tuple[float, float, str]:
    fps = [p["fps"] for p in payloads if isinstance(p.get("fps"), int | float)]
    loads = [
        p["governor"]["readings"]["load_pct"]
        for p in payloads
        if p.get("governor") and p["governor"]["readings"].get("load_pct") is not None
    ]
    levels = Counter(p.get("governor_level", "?") for p in payloads)
    return (
        statistics.median(fps) if fps else float("nan"),
        statistics.median(loads) if loads else float("nan"),
        levels.most_common(1)[0][0] if levels else "?",
    )


def phase(names: list[str], root: Path, port: int, cpu: int, seconds: float, stats: Stats) -> dict:
    processes = []
    for name in names:
        config = root / f"{name}.yaml"
        config.write_text(CONFIG.format(name=name, clip=CLIP, state=root / name, port=port))
        command = [
            "taskset",
            "-c",
            str(cpu),
            sys.executable,
            "-m",
            "camera",
            "run",
            "--config",
            str(config),
        ]
        processes.append(
            subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        )
    started = time.monotonic()
    events_before = dict(stats.events)
    time.sleep(WARM_UP_S + seconds)
    result = {
        name: (
            *summary(stats.window(name, started + WARM_UP_S)),
            stats.events[name] - events_before.get(name, 0),
        )
        for name in names
    }
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(60)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="measured per phase")
    parser.add_argument("--cpu", type=int, default=0, help="the one core both run on")
    args = parser.parse_args()
    mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    with tempfile.TemporaryDirectory(prefix="ronda-bench-two-") as folder:
        root = Path(folder)
        port = free_port()
        (root / "mosquitto.conf").write_text(
            f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
            + ("user root\n" if os.geteuid() == 0 else "")
        )
        broker = subprocess.Popen(
            [mosquitto, "-c", str(root / "mosquitto.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(0.5)
        stats = Stats(port)
        try:
            alone = phase(["a"], root, port, args.cpu, args.seconds, stats)
            together = phase(["a", "b"], root, port, args.cpu, args.seconds, stats)
        finally:
            stats.client.loop_stop()
            broker.terminate()
            broker.wait(10)
    print(
        f"one core (cpu {args.cpu}), indoor clip looped as a 10 fps camera, "
        f"{args.seconds:g} s measured"
    )
    for title, result in (("alone", alone), ("together", together)):
        for name, (fps, load, level, events) in result.items():
            print(
                f"{title:>8} {name}: {fps:5.2f} fps processed, loop load {load:6.1f} %, "
                f"governor {level}, {events} event updates"
            )
    a_alone, a_together = alone["a"], together["a"]
    print(
        f"a together/alone: fps {a_together[0] / a_alone[0]:.2f}x, "
        f"load {a_together[1] / a_alone[1]:.2f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

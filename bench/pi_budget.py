"""Does Ronda keep up on a Pi-class CPU budget?  A realtime replay inside a CPU quota.

The one-by-one clip (six people walk in and out of a room, 139 s at 10 fps) is played like a live
camera (``--realtime``: frames the loop is too busy for are dropped, not queued) through the whole
runtime with every default feature on: the model timing at start and ``detector.variant: auto``,
motion, detector, tracker, thumbnails, the SQLite store, the durable MQTT outbox to a real
mosquitto, Home Assistant discovery, the web page (as ``ronda run`` serves it), the governor (its
sensors pointed at an empty folder, so only the load ladder acts).  The replay runs in a child
process whose PID sits in a cgroup with ``cpu.cfs_quota_us`` (cgroup v1) or ``cpu.max`` (v2) at
100 %, 50 % and 25 % of one core, standing in for Pi-class budgets, and (``--memory-mb``, 512 by
default: a Zero 2 W) a memory cgroup limit, which ``auto`` reads as the board's memory; the broker
and the subscriber that times the alerts run outside it.

Per quota it prints: the variant chosen, frames processed per second, frame age p50/p95 (and p95
of each half of the run: no growth), detector ms per call, person events (of 6 people), alert
latency p95 (the subscriber's receipt minus the moment the frame that raised it happened), the
delay from each person's first labelled frame to the alert, and the child's peak RSS.
Targets at 25 %: all six people alerted, frame age p95 < 1 s, no growth, peak memory <= 200 MB.

Run as root from the repository root:  ``.venv/bin/python bench/pi_budget.py [--quotas 100 50 25]``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.broker: the helpers

CLIP = Path("tests/footage/clips/intel_one-by-one-person-detection.mp4")
MANIFEST = Path("tests/footage/manifest.json")
CGROUP_V1 = Path("/sys/fs/cgroup/cpu")
CGROUP_V2 = Path("/sys/fs/cgroup")
PERIOD_US = 100_000
TARGETS = {"people": 6, "age_p95_s": 1.0, "peak_mb": 200.0}


# -- the parent: cgroups, broker, subscriber -------------------------------------------------------


class ChildCgroup:
    """Child cgroups limited to ``percent`` of one core and (when ``megabytes``) that much
    memory, the board's RAM as ``MemoryMax=`` would say it, which ``detector.variant: auto``
    reads as the memory it may plan for; ``add(pid)`` puts a process in them.  cgroup v1 has a
    folder per controller, v2 one folder with both files."""

    def __init__(self, percent: float, megabytes: float) -> None:
        name = f"ronda-pi-budget-{os.getpid()}-{int(percent)}"
        quota = int(PERIOD_US * percent / 100)
        memory = str(int(megabytes * 2**20))
        if (CGROUP_V1 / "cpu.cfs_quota_us").exists():
            settings = {CGROUP_V1 / name: {"cpu.cfs_period_us": str(PERIOD_US),
                                           "cpu.cfs_quota_us": str(quota)}}  # fmt: skip
            if megabytes:
                settings[CGROUP_V1.parent / "memory" / name] = {"memory.limit_in_bytes": memory}
        elif (CGROUP_V2 / "cgroup.controllers").exists():
            files = {"cpu.max": f"{quota} {PERIOD_US}"} | (
                {"memory.max": memory} if megabytes else {}
            )
            settings = {CGROUP_V2 / name: files}
        else:
            raise SystemExit("no cgroup cpu controller at /sys/fs/cgroup (v1 cpu or v2 cpu.max)")
        self.paths = list(settings)
        for path, values in settings.items():
            path.mkdir()
            for file, value in values.items():
                (path / file).write_text(value + "\n")

    def add(self, pid: int) -> None:
        for path in self.paths:
            (path / "cgroup.procs").write_text(f"{pid}\n")

    def remove(self) -> None:
        for path in self.paths:
            path.rmdir()


def run_quota(
    percent: float, broker_port: int, workdir: Path, seconds: float, memory_mb: float
) -> dict:
    """One child replay inside a fresh cgroup; the alerts timed by a subscriber out here."""
    from tests.broker import Subscriber

    subscriber = Subscriber("127.0.0.1", broker_port, topic="bench/+/events").start()
    quota = ChildCgroup(percent, memory_mb)

    out = workdir / f"quota-{percent:g}.json"
    state = workdir / f"state-{percent:g}"
    command = [sys.executable, __file__, "--child", str(out), "--port", str(broker_port)]
    command += ["--state", str(state), "--camera", f"q{percent:g}"]
    command += ["--seconds", str(seconds)]
    env = {k: v for k, v in os.environ.items() if k != "RONDA_MODEL_TIMINGS"}
    try:
        # The child joins the cgroup before it imports anything: start-up is inside the budget.
        child = subprocess.Popen(command, env=env, preexec_fn=lambda: quota.add(os.getpid()))
        child.wait()
    finally:
        quota.remove()
    received = list(subscriber.messages)
    subscriber.stop()
    if child.returncode != 0:
        raise SystemExit(f"the replay at {percent:g} % failed (exit {child.returncode})")
    result = json.loads(out.read_text())
    return result | alert_timing(result, received)


def alert_timing(result: dict, received: list) -> dict:
    """Latency of each person alert (start event) from the moment its frame happened, and the
    delay from each labelled person's first frame to their alert."""
    origin = result["origin_monotonic"]  # when video time 0 "happened", on this machine's clock
    starts = []
    for message in received:
        event = json.loads(message.payload)
        if event.get("type") == "start" and event.get("label") == "person":
            starts.append((event["frame_time"], message.at))
    latencies = [at - (origin + frame_time) for frame_time, at in starts]
    delays, alerted = [], 0
    fps = result["fps"]
    for first, last in result["person_ranges"]:
        hits = [at for frame_time, at in starts if first - 5 <= frame_time * fps <= last]
        if hits:
            alerted += 1
            delays.append(min(hits) - (origin + first / fps))
    return {
        "people_alerted": alerted,
        "alert_latency_p95_s": float(np.percentile(latencies, 95)) if latencies else None,
        "entry_to_alert_s": [round(d, 2) for d in delays],
    }


def parent(args: argparse.Namespace) -> None:
    from tests.broker import Mosquitto

    if os.geteuid() != 0:
        raise SystemExit("run as root: the replay is put in a cgroup with a CPU quota")
    if not CLIP.exists():
        raise SystemExit(f"{CLIP} not found: run from the repository root")
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        broker = Mosquitto(workdir)
        broker.start()
        try:
            for percent in args.quotas:
                print(f"replaying at {percent:g} % of one core ...", flush=True)
                results[percent] = run_quota(
                    percent, broker.port, workdir, args.seconds, args.memory_mb
                )
        finally:
            broker.stop()
    report(results, args)


def report(results: dict, args: argparse.Namespace) -> None:
    print(f"\nclip {CLIP.name}, realtime, every default feature on; load {os.getloadavg()[0]:.2f}")
    header = (
        f"{'quota':>6} {'variant':<22}{'fps':>6}{'age p50':>9}{'p95':>7}{'1st/2nd half p95':>18}"
        f"{'det ms':>8}{'people':>8}{'alert p95':>10}{'peak MB':>9}"
    )
    print(header)
    for percent, r in results.items():
        halves = f"{r['age_p95_first_half_s']:.2f}/{r['age_p95_second_half_s']:.2f}"
        alert = r["alert_latency_p95_s"]
        print(
            f"{percent:>5g}% {r['variant']:<22}{r['processed_fps']:>6.1f}"
            f"{r['age_p50_s']:>8.2f}s{r['age_p95_s']:>6.2f}s{halves:>18}"
            f"{r['detector_ms']:>8.0f}{r['people_alerted']:>6}/6"
            f"{'-' if alert is None else f'{alert:.2f}s':>10}{r['peak_rss_mb']:>9.0f}"
        )
    for percent, r in results.items():
        print(f"\n{percent:g} %: timings (ms) {r['timings_ms']}; ladder {' -> '.join(r['ladder'])}")
        print(f"  levels seen {r['levels']}; stale frames dropped {r['stale_dropped']}; "
              f"entry-to-alert delays (s) {r['entry_to_alert_s']}")  # fmt: skip
    low = results.get(min(results))
    if low is not None:
        ok = (
            low["people_alerted"] == TARGETS["people"]
            and low["age_p95_s"] < TARGETS["age_p95_s"]
            and low["age_p95_second_half_s"] <= low["age_p95_first_half_s"] + 0.25
            and low["peak_rss_mb"] <= TARGETS["peak_mb"]
        )
        print(f"\ntargets at {min(results):g} %: 6/6 people, age p95 < 1 s, no growth, "
              f"peak <= 200 MB: {'met' if ok else 'NOT met'}")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


# -- the child: one realtime replay of the whole runtime ----------------------------------------


def child(args: argparse.Namespace) -> None:
    from camera.app import RunOptions, Runtime
    from camera.config import parse_config
    from camera.sources import open_replay
    from camera.web.service import attach_web
    from tests.broker import free_port

    prefix = f"bench/{args.camera}"
    empty = args.state / "no-sensors"
    empty.mkdir(parents=True, exist_ok=True)
    config = parse_config(
        {
            "camera": {"name": args.camera},
            "store": {"path": str(args.state)},
            "mqtt": {
                "host": "127.0.0.1",
                "port": args.port,
                "topic_prefix": prefix,
            },
            "governor": {"sensors": {"sysfs_root": str(empty), "vcgencmd": str(empty / "none")}},
            "web": {"port": free_port()},  # on by default; localhost only without a password
        }
    )
    ages: list[tuple[float, float]] = []
    levels: set[str] = set()

    origin: list[float] = []  # when video time 0 "happened" (a realtime frame's capture time)

    stop = threading.Event()

    def hook(outcome) -> None:
        frame = outcome.frame
        if args.seconds and frame.timestamp >= args.seconds:
            stop.set()
        levels.add(outcome.policy.level)
        if not origin and frame.captured is not None:
            origin.append(frame.captured - frame.timestamp)
        if outcome.age_s is not None:
            ages.append((frame.timestamp, outcome.age_s))

    started = time.monotonic()
    runtime = Runtime(config, RunOptions(hooks=[hook]))
    web = attach_web(runtime, None)  # as `ronda run` does
    startup_s = time.monotonic() - started
    source = open_replay(CLIP, realtime=True)
    try:
        runtime.run_source(source, stop)
    finally:
        if web is not None:
            web.stop()
        left = runtime.close()
    stats = runtime.pipeline.stats
    values = [age for _, age in ages]
    half = len(values) // 2
    item = next(
        i for i in json.loads(MANIFEST.read_text())["items"] if i["path"].endswith(CLIP.name)
    )
    selection = runtime.detector.selection
    timings = selection.timings_ms if selection else {}
    result = {
        "variant": selection.normal.name if selection else runtime.detector.variant,
        "timings_ms": {k: round(v, 1) for k, v in timings.items()},
        "ladder": [s.name for s in selection.ladder] if selection else [],
        "startup_s": startup_s,
        "processed_fps": stats.processed / (stats.last_timestamp or source.duration),
        "age_p50_s": float(np.percentile(values, 50)),
        "age_p95_s": float(np.percentile(values, 95)),
        "age_p95_first_half_s": float(np.percentile(values[:half], 95)),
        "age_p95_second_half_s": float(np.percentile(values[half:], 95)),
        "detector_ms": stats.detector_ms,
        "person_events": stats.events.get("person", 0),
        "stale_dropped": stats.stale_dropped,
        "levels": sorted(levels),
        "outbox_left": left,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "origin_monotonic": origin[0],
        "fps": source.fps,
        "person_ranges": item["labels"]["person"],
    }
    args.child.write_text(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quotas", type=float, nargs="+", default=[100.0, 50.0, 25.0])
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--seconds", type=float, default=0.0, help="stop after this much video (a quick check)"
    )
    parser.add_argument(
        "--memory-mb",
        type=float,
        default=512.0,
        help="memory cgroup limit of the replay: the board's RAM (default 512, a Zero 2 W; "
        "0: none)",
    )
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--state", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--camera", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
    else:
        parent(args)


if __name__ == "__main__":
    main()

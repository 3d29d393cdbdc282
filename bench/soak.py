"""Soak: ``ronda run`` for a simulated day of video, faster than real time, with a broker that
drops out and comes back; does anything grow, and is every alert delivered?

**The simulated day.** A real day at a door is mostly nothing, a few dozen visits apart.  The
soak loops the one-by-one clip (139 s, six people walk in and out of a room) with ``source.loop``
and puts ``source.loop_gap_s`` of the timeline between two passes: the quiet hours, in which a
camera at rest does next to no work (no motion, no detector).  ``source.realtime: false`` plays
every frame of the passes as fast as the CPU allows, on the recording's timeline, so a day of
video (by default a pass every two hours: 12 passes, 72 visits) takes minutes, and everything driven
by the timeline sees a day: the tracker, the clip recorder's pre- and post-roll, the governor's
load ladder.  What runs on the wall clock (retention by age, the outbox's expiry) sees minutes;
the soak bounds retention by count instead (``store.max_events``, ``clips.max_gigabytes``) so that
both bounds are exercised.

**Everything on, as ``ronda run`` ships:** the real command in a child process, the models timed
at start and ``auto``, MQTT with Home Assistant discovery, clips, the web page, the governor (its
sensors pointed at an empty folder: only the load ladder acts).  Its broker connection goes
through a proxy that silently drops every byte for ``--outage`` seconds every ``--every``
seconds (a pulled cable: no FIN, no RST), so Ronda must notice by keepalive, queue on disk and
deliver afterwards.  A subscriber on the broker itself never drops.

**Reported over time** (a row per sample): video hours, resident memory (and the peak),
open files, threads, the database (with its WAL), clips and thumbnails folder sizes, and bytes
the process wrote to storage (``/proc/<pid>/io`` ``write_bytes``), with the outbox depth.  At
the end: growth once warm (the second half against the first), the disk against the retention
bounds, bytes written per hour of video with and without clips, and delivery: every update Ronda
logged as published must have reached the subscriber (matched by event id and count).

Run from the repository root (as root, or as the user that owns the files: ``/proc/<pid>/io``):
``.venv/bin/python bench/soak.py`` (a day, about 15 minutes here) or ``--quick`` (3 hours of
video, about 2 minutes).  ``--json FILE`` keeps the samples.
"""

from __future__ import annotations

import argparse
import collections
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.broker: mosquitto, the dropping proxy, a subscriber

CLIP = ROOT / "tests/footage/clips/intel_one-by-one-person-detection.mp4"
CLIP_FRAMES, CLIP_FPS = 1394, 10.0
PREFIX = "soak/door"
MAX_EVENTS = 60
"""Retention by count, below the day's 144 visits: the history must stay at this bound."""
CLIPS_GB = 0.05
"""50 MB of clips at most (a day of this clip records about three times that)."""
EVENT_LINE = re.compile(r"event (start|update|end) (\S+) ")


@dataclass
class Sample:
    wall_s: float
    video_h: float
    rss_mb: float
    peak_mb: float
    fds: int
    threads: int
    db_mb: float
    clips_mb: float
    thumbnails_mb: float
    written_mb: float
    outbox: int
    received: int


def folder_mb(path: Path) -> float:
    if not path.exists():
        return 0.0
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def proc_status(pid: int) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return dict(line.split(":", 1) for line in lines if ":" in line)


def written_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("write_bytes:"):
            return int(line.split()[1])
    return 0


def write_config(workdir: Path, broker_port: int, passes_per_hour: float, clips: bool) -> Path:
    from tests.broker import free_port

    empty = workdir / "no-sensors"
    empty.mkdir()
    gap = 3600.0 / passes_per_hour - CLIP_FRAMES / CLIP_FPS
    config = {
        "camera": {"name": "door"},
        "store": {"path": str(workdir / "state"), "max_events": MAX_EVENTS},
        "source": {
            "kind": "file",
            "uri": str(CLIP),
            "loop": True,
            "loop_gap_s": round(gap, 1),
            "realtime": False,
        },
        "mqtt": {
            "host": "127.0.0.1",
            "port": broker_port,
            "topic_prefix": PREFIX,
            "keepalive_s": 5,  # a silent outage is noticed in seconds, not minutes
            "stats_interval_s": 2,
        },
        "clips": {"enabled": clips, "max_gigabytes": CLIPS_GB},
        "governor": {"sensors": {"sysfs_root": str(empty), "vcgencmd": str(empty / "none")}},
        "web": {"port": free_port()},
    }
    path = workdir / "ronda.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def video_hours(frames: int, passes_per_hour: float) -> float:
    """Video time from the frames delivered: whole passes are an hour / passes_per_hour each."""
    passes, rest = divmod(frames, CLIP_FRAMES)
    return passes / passes_per_hour + rest / CLIP_FPS / 3600


class Outages(threading.Thread):
    """Cut the proxy for ``outage`` s every ``every`` s (wall clock) until stopped."""

    def __init__(self, proxy, every: float, outage: float) -> None:
        super().__init__(name="outages", daemon=True)
        self.proxy, self.every, self.outage = proxy, every, outage
        self.stop = threading.Event()
        self.count = 0

    def run(self) -> None:
        while not self.stop.wait(self.every - self.outage):
            self.proxy.cut()
            self.count += 1
            self.stop.wait(self.outage)
            self.proxy.heal()


def soak(args: argparse.Namespace, workdir: Path) -> dict:
    from tests.broker import Blackhole, Mosquitto, Subscriber, wait_until

    broker = Mosquitto(workdir)
    broker.start()
    proxy = Blackhole(broker.port).start()
    events = Subscriber("127.0.0.1", broker.port, topic=f"{PREFIX}/events").start()
    stats = Subscriber("127.0.0.1", broker.port, topic=f"{PREFIX}/stats").start()
    config = write_config(workdir, proxy.port, args.passes_per_hour, not args.no_clips)
    state = workdir / "state"
    log_path = workdir / "ronda.log"
    env = {k: v for k, v in os.environ.items() if k != "RONDA_MODEL_TIMINGS"}
    started = time.monotonic()
    with log_path.open("w") as log:
        child = subprocess.Popen(
            [sys.executable, "-m", "camera", "run", "--config", str(config)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    outages = Outages(proxy, args.every, args.outage)
    outages.start()
    samples: list[Sample] = []
    last: dict = {}
    try:
        while child.poll() is None:
            time.sleep(args.interval)
            if stats.messages:
                last = stats.messages[-1].json()
            hours = video_hours(int(last.get("frames", 0)), args.passes_per_hour)
            status = proc_status(child.pid)
            samples.append(
                Sample(
                    wall_s=round(time.monotonic() - started, 1),
                    video_h=round(hours, 2),
                    rss_mb=int(status["VmRSS"].split()[0]) / 1024,
                    peak_mb=int(status["VmHWM"].split()[0]) / 1024,
                    fds=len(os.listdir(f"/proc/{child.pid}/fd")),
                    threads=int(status["Threads"]),
                    db_mb=sum(
                        folder_mb(p) if p.is_dir() else p.stat().st_size / 1e6
                        for p in state.glob("ronda.sqlite3*")
                    ),
                    clips_mb=folder_mb(state / "clips"),
                    thumbnails_mb=folder_mb(state / "thumbnails"),
                    written_mb=written_bytes(child.pid) / 1e6,
                    outbox=int(last.get("outbox_depth", 0)),
                    received=len(events.messages),
                )
            )
            print(row(samples[-1]), flush=True)
            if hours >= args.hours:
                break
    finally:
        outages.stop.set()
        outages.join()
        proxy.heal()
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
        code = child.wait(timeout=120)
        # The last QoS 1 messages may still be on their way from the broker to the subscriber.
        wait_until(lambda: not undelivered(logged_updates(log_path), events.messages), 10)
        events.stop()
        stats.stop()
        proxy.stop()
        broker.stop()
    return summarise(args, samples, log_path, events.messages, state, code, outages.count)


def logged_updates(log_path: Path) -> collections.Counter[str]:
    """Updates Ronda logged as published, per event id (the ones that alert)."""
    return collections.Counter(
        match.group(2)
        for line in log_path.read_text().splitlines()
        if (match := EVENT_LINE.search(line)) and "(stored, no alert)" not in line
    )


def received_updates(received: list) -> collections.Counter[str]:
    """Updates the subscriber got, per event id, each (id, sequence) once (QoS 1: a redelivery
    after an outage is a duplicate, not news)."""
    got: collections.Counter[str] = collections.Counter()
    seen = set()
    for message in list(received):
        event = message.json()
        key = (event["id"], event["sequence"])
        if key not in seen:
            seen.add(key)
            got[event["id"]] += 1
    return got


def undelivered(logged: collections.Counter[str], received: list) -> dict[str, int]:
    got = received_updates(received)
    return {k: v - got[k] for k, v in logged.items() if got[k] < v}


def summarise(args, samples, log_path, received, state, code, outages) -> dict:
    logged = logged_updates(log_path)
    got = received_updates(received)
    missing = undelivered(logged, received)
    warm = [s for s in samples if s.video_h >= args.hours / 4]
    half = len(warm) // 2
    first, second = warm[:half] or warm, warm[half:] or warm
    hours = samples[-1].video_h if samples else 0.0
    written = samples[-1].written_mb if samples else 0.0
    log_mb = log_path.stat().st_size / 1e6  # under systemd the journal writes it, not Ronda
    # Clip bytes recorded: the folder's growth between samples (retention's deletions make
    # the folder shrink, so this slightly undercounts when both fall between two samples).
    clips_mb = sum(max(0.0, b.clips_mb - a.clips_mb) for a, b in itertools.pairwise(samples))
    database_rows = _stored_events(state)
    return {
        "exit_code": code,
        "video_hours": hours,
        "wall_s": samples[-1].wall_s if samples else 0.0,
        "outages": outages,
        "updates_logged": sum(logged.values()),
        "updates_received_unique": sum(got.values()),
        "undelivered": missing,
        "events_stored": database_rows,
        "rss_first_half_max_mb": max(s.rss_mb for s in first) if first else None,
        "rss_second_half_max_mb": max(s.rss_mb for s in second) if second else None,
        "fds_first_half_max": max(s.fds for s in first) if first else None,
        "fds_second_half_max": max(s.fds for s in second) if second else None,
        "threads_max": max(s.threads for s in samples) if samples else None,
        "peak_mb": max(s.peak_mb for s in samples) if samples else None,
        "clips_max_mb": max(s.clips_mb for s in samples) if samples else None,
        "db_max_mb": max(s.db_mb for s in samples) if samples else None,
        "written_mb": written,
        "log_mb": log_mb,
        "clips_recorded_mb": clips_mb,
        "state_mb_per_video_hour": (written - log_mb) / hours if hours else None,
        "clips_mb_per_video_hour": clips_mb / hours if hours else None,
        "samples": [asdict(s) for s in samples],
    }


def _stored_events(state: Path) -> int:
    import sqlite3

    with sqlite3.connect(f"file:{state / 'ronda.sqlite3'}?mode=ro", uri=True) as db:
        return int(db.execute("SELECT COUNT(*) FROM events").fetchone()[0])


HEADER = (
    f"{'wall s':>7}{'video h':>9}{'RSS MB':>8}{'peak':>7}{'fds':>5}{'thr':>5}{'db MB':>7}"
    f"{'clips MB':>9}{'thumbs':>7}{'written MB':>11}{'outbox':>7}{'received':>9}"
)


def row(s: Sample) -> str:
    return (
        f"{s.wall_s:>7.0f}{s.video_h:>9.2f}{s.rss_mb:>8.0f}{s.peak_mb:>7.0f}{s.fds:>5}"
        f"{s.threads:>5}{s.db_mb:>7.2f}{s.clips_mb:>9.1f}{s.thumbnails_mb:>7.2f}"
        f"{s.written_mb:>11.1f}{s.outbox:>7}{s.received:>9}"
    )


def report(result: dict, args: argparse.Namespace) -> None:
    print("\nsummary")
    speed = result["video_hours"] * 3600 / max(result["wall_s"], 1)
    print(f"  {result['video_hours']:.1f} h of video in {result['wall_s']:.0f} s ({speed:.0f}x "
          f"real time); {result['outages']} broker outage(s) of {args.outage:g} s; "
          f"exit {result['exit_code']}")  # fmt: skip
    print(f"  resident memory once warm: first half max {result['rss_first_half_max_mb']:.0f} MB,"
          f" second half max {result['rss_second_half_max_mb']:.0f} MB; peak "
          f"{result['peak_mb']:.0f} MB")  # fmt: skip
    print(f"  open files {result['fds_first_half_max']} -> {result['fds_second_half_max']}; "
          f"threads at most {result['threads_max']}")  # fmt: skip
    print(f"  disk: clips at most {result['clips_max_mb']:.1f} MB (bound {CLIPS_GB * 1000:g} MB);"
          f" database at most {result['db_max_mb']:.2f} MB; {result['events_stored']} events "
          f"kept (bound {MAX_EVENTS})")  # fmt: skip
    state = result["state_mb_per_video_hour"]
    clips = result["clips_mb_per_video_hour"]
    print(f"  written to storage: {result['written_mb']:.0f} MB, of which {result['log_mb']:.1f} MB"
          f" the log; to the state directory {state:.1f} MB per hour of video, of which clips "
          f"{clips:.1f} MB recorded (written twice: .part.ts, then the MP4)")  # fmt: skip
    missing = result["undelivered"] or "none"
    print(f"  delivery: {result['updates_received_unique']} of {result['updates_logged']} "
          f"published updates received; undelivered: {missing}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=24.0, help="video hours (default a day)")
    parser.add_argument("--quick", action="store_true", help="3 video hours, a minute or two")
    parser.add_argument(
        "--passes-per-hour",
        type=float,
        default=0.5,
        help="passes of the clip (6 visits each) per video hour (default 0.5: 72 visits a day)",
    )
    parser.add_argument("--every", type=float, default=120.0, help="an outage every S wall s")
    parser.add_argument("--outage", type=float, default=30.0, help="each outage lasts S wall s")
    parser.add_argument("--interval", type=float, default=10.0, help="sample every S wall s")
    parser.add_argument(
        "--no-clips", action="store_true", help="clips off: what the rest of the state writes"
    )
    parser.add_argument("--json", type=Path, help="also write the samples and summary here")
    args = parser.parse_args()
    if args.quick:
        args.hours, args.every, args.outage, args.interval = 3.0, 45.0, 15.0, 5.0
    print(HEADER, flush=True)
    with tempfile.TemporaryDirectory(prefix="ronda-soak-") as folder:
        result = soak(args, Path(folder))
    report(result, args)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()

"""How much compute each governor level saves.

Replays the one-by-one clip (six people walk through a room) once per level, with a fake
sysfs thermal zone pinned at a temperature inside that level, and prints the detector's
milliseconds per second of video, processed frames per second and events, each as a ratio to the
``normal`` level measured in the same process.  The detector runs float32 416 at the normal
level (pinned), as ``auto`` does on a Pi that affords it, and steps down this machine's ladder.

Run from the repo root: ``.venv/bin/python bench/governor.py [--seconds 60]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
from pathlib import Path

from camera.app import RunOptions, Runtime
from camera.config import parse_config
from camera.sources import open_replay

CLIP = Path("tests/footage/clips/intel_one-by-one-person-detection.mp4")
LEVELS = {"normal": 50.0, "heat-warm": 72.0, "heat-hot": 79.0, "heat-critical": 90.0}


class StopAfter:
    """Frame hook: stop the replay after ``seconds`` of video."""

    def __init__(self, seconds: float, stop: threading.Event) -> None:
        self.seconds = seconds
        self.stop = stop
        self.levels: set[str] = set()

    def __call__(self, outcome) -> None:
        self.levels.add(outcome.policy.level)
        if outcome.frame.timestamp >= self.seconds:
            self.stop.set()


def run_level(celsius: float, seconds: float, workdir: Path) -> dict[str, float | str]:
    zone = workdir / "sys" / "class" / "thermal" / "thermal_zone0"
    zone.mkdir(parents=True, exist_ok=True)
    (zone / "type").write_text("cpu-thermal\n")
    (zone / "temp").write_text(f"{int(celsius * 1000)}\n")
    config = parse_config(
        {
            "store": {"path": str(workdir / "state")},
            "detector": {"variant": "picodet-s416-float32"},
            "governor": {
                "sensors": {
                    "sysfs_root": str(workdir / "sys"),
                    "vcgencmd": str(workdir / "absent"),
                    "battery": {"source": "off"},
                }
            },
        }
    )
    stop = threading.Event()
    hook = StopAfter(seconds, stop)
    runtime = Runtime(config, RunOptions(use_mqtt=False, hooks=[hook]))
    runtime.run_source(open_replay(CLIP), stop)
    stats = runtime.pipeline.stats
    runtime.close()
    video_s = (stats.last_timestamp or 0.0) - (stats.first_timestamp or 0.0)
    return {
        "levels": ",".join(sorted(hook.levels)),
        "detector_ms_per_video_s": 1000 * stats.detector_seconds / video_s,
        "processed_fps": stats.processed / video_s,
        "detector_calls": stats.detector_calls,
        "events": sum(stats.events.values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=140.0, help="video seconds per level")
    args = parser.parse_args()
    if not CLIP.exists():
        sys.exit(f"{CLIP} not found: run from the repo root")
    results = {}
    for level, celsius in LEVELS.items():
        with tempfile.TemporaryDirectory() as workdir:
            results[level] = run_level(celsius, args.seconds, Path(workdir))
    base = results["normal"]["detector_ms_per_video_s"]
    print(f"{CLIP.name}, first {args.seconds:.0f} s of video per level")
    print(
        f"{'level':<15}{'°C':>6}{'det ms/video s':>16}{'ratio':>8}{'proc fps':>10}"
        f"{'calls':>8}{'events':>8}"
    )
    for level, r in results.items():
        ms = r["detector_ms_per_video_s"]
        print(
            f"{level:<15}{LEVELS[level]:>6.0f}{ms:>16.1f}{ms / base:>8.2f}"
            f"{r['processed_fps']:>10.1f}{r['detector_calls']:>8}{r['events']:>8}"
        )
        if r["levels"] != level:
            print(f"  (levels seen: {r['levels']})")


if __name__ == "__main__":
    main()

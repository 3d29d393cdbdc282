"""Tracker cost per frame with 1, 10 and 30 objects, against the previous tracker, in one process.

A synthetic 1280x720 scene: N objects (people and pets, person- and pet-shaped boxes) walk
with constant velocity plus jitter, bounce off the edges, and are detected on 80 % of frames
with jittered boxes and scores (as a real detector misses and wobbles).  Both trackers get the
same detection stream; the new one also gets the frame (it takes colour histograms of
detections), a real decoded 720p frame, so histogram cost is included.  The last column counts
the events each started: one per object is right.  Runs are interleaved
(old, new, old, new...) and repeated; medians of the thread's CPU time are printed with the
ratio (CPU time, not wall time: on a shared machine a preempted run would otherwise look slow).

Run from the repo root: ``.venv/bin/python bench/tracker.py [--frames 300] [--repeats 7]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from camera.track import Tracker, TrackerConfig
from camera.types import Box, Detection

WIDTH, HEIGHT, FPS = 1280, 720, 10.0
CLIP = Path("tests/footage/clips/intel_one-by-one-person-detection.mp4")
BASELINE = "3b095aa"
"""The commit whose tracker is the baseline: the one before issue 12 (IoU, then the nearest
centre within one box size; no prediction, no appearance)."""


def baseline_tracker() -> type:
    """The baseline's ``Tracker`` class, loaded from git history (not kept as a second copy)."""
    repo = Path(__file__).resolve().parent.parent
    try:
        source = subprocess.run(
            ["git", "show", f"{BASELINE}:camera/track/tracker.py"],
            cwd=repo,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        sys.exit(
            f"bench/tracker.py needs the git history of {BASELINE} (not a shallow clone): {error}"
        )
    module = types.ModuleType("baseline_tracker")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, f"{BASELINE}:camera/track/tracker.py", "exec"), module.__dict__)
    return module.Tracker


Frames = list[list[Detection]]


def scene(objects: int, frames: int, seed: int = 1) -> Frames:
    """Per frame, the detections of ``objects`` moving things (see the module docstring)."""
    rng = np.random.default_rng(seed)
    pets = rng.random(objects) < 0.3
    heights = np.where(pets, rng.uniform(40, 90, objects), rng.uniform(80, 260, objects))
    widths = np.where(pets, heights * rng.uniform(1.2, 1.8, objects), heights * 0.38)
    xs = rng.uniform(0, WIDTH - widths)
    ys = rng.uniform(heights, HEIGHT)
    vx = rng.uniform(-1.5, 1.5, objects) * heights  # up to 1.5 sizes per second
    vy = rng.uniform(-0.3, 0.3, objects) * heights
    stream: Frames = []
    for _ in range(frames):
        xs += vx / FPS
        ys += vy / FPS
        vx = np.where((xs < 0) | (xs > WIDTH - widths), -vx, vx)
        vy = np.where((ys < heights) | (ys > HEIGHT), -vy, vy)
        detections = []
        for i in range(objects):
            if rng.random() > 0.8:
                continue
            jitter = rng.normal(0, 0.04 * heights[i], 4)
            box = Box(
                xs[i] + jitter[0],
                ys[i] - heights[i] + jitter[1],
                xs[i] + widths[i] + jitter[2],
                ys[i] + jitter[3],
            ).clip(WIDTH, HEIGHT)
            label = "pet" if pets[i] else "person"
            score = float(np.clip(rng.normal(0.7, 0.1), 0.31, 0.99))
            detections.append(Detection(label, "dog" if pets[i] else "person", score, box))
        stream.append(detections)
    return stream


def background() -> np.ndarray:
    """A real frame (the one-by-one room) at 720p, or grey noise if the clip is absent."""
    capture = cv2.VideoCapture(str(CLIP))
    ok, frame = capture.read()
    capture.release()
    if ok:
        return cv2.resize(frame, (WIDTH, HEIGHT))
    return np.random.default_rng(0).integers(0, 255, (HEIGHT, WIDTH, 3), np.uint8)


def time_run(
    make: Callable[[], object], stream: Frames, image: np.ndarray | None
) -> tuple[float, int]:
    """Milliseconds per frame of one full pass, and how many events started."""
    tracker = make()
    update = tracker.update  # type: ignore[attr-defined]
    events = []
    started = time.thread_time()
    if image is None:
        for index, detections in enumerate(stream):
            events += update(detections, index / FPS)
    else:
        for index, detections in enumerate(stream):
            events += update(detections, index / FPS, image)
    elapsed = time.thread_time() - started
    return 1000.0 * elapsed / len(stream), sum(e.kind == "start" for e in events)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    config = TrackerConfig()
    BaselineTracker = baseline_tracker()
    image = background()
    load = os.getloadavg()
    print(
        f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}; {args.frames} frames, "
        f"{args.repeats} interleaved repeats, median ms per frame"
    )
    print(f"{'objects':>7} {'previous':>9} {'new':>9} {'ratio':>6}   events started (previous/new)")
    for objects in (1, 10, 30):
        stream = scene(objects, args.frames)
        old_times, new_times = [], []
        for _ in range(args.repeats):
            old_ms, old_events = time_run(
                lambda: BaselineTracker(config, (WIDTH, HEIGHT)), stream, None
            )
            new_ms, new_events = time_run(lambda: Tracker(config, (WIDTH, HEIGHT)), stream, image)
            old_times.append(old_ms)
            new_times.append(new_ms)
        old, new = statistics.median(old_times), statistics.median(new_times)
        print(
            f"{objects:>7} {old:>8.3f}  {new:>8.3f}  {new / old:>5.2f}x   "
            f"{old_events}/{new_events} for {objects} objects"
        )


if __name__ == "__main__":
    main()

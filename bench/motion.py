"""Cost of the motion stage per 720p frame, and how often it would wake the detector.

For every footage clip, each frame is decoded and resized to 1280x720 (untimed), then timed, in
the same process, through:

* **bgr**: ``MotionDetector.update`` downscaling the 720p BGR image itself;
* **gray**: ``MotionDetector.update`` given ``Frame.gray_small`` (what the Pi's lores Y plane
  provides; prepared untimed at motion size);
* **baseline**: a plain full-resolution frame difference (BGR->gray, absdiff with the previous
  frame, threshold 25, external contours, bounding boxes of contours over 0.05 % of the frame).

The three are interleaved frame by frame; before each timed call the CPU caches are flushed and
the 720p frame is written afresh (both untimed), the state a frame decode leaves in the pipeline.

Prints median and p95 CPU ms per frame for each and the ratio to the baseline, then per clip the
share of frames on which motion is active (the detector would be called), for both paths.
Targets: median <= 1 ms per 720p frame, <= 50 % of the baseline, and >= 80 % fewer detector
calls than every frame on the one-by-one clip.  Run from the repo root:
``.venv/bin/python bench/motion.py [--footage DIR] [--sensitivity medium] [--max-frames N]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from camera.motion import MotionConfig, MotionDetector
from camera.motion.downscale import motion_size, shrink
from camera.types import Frame

SIZE = (1280, 720)
CLIPS = (
    "clips/intel_one-by-one-person-detection.mp4",
    "clips/intel_car-detection.mp4",
    "clips/bgslibrary_video.avi",
    "clips/opencvcourse_dog.mp4",
    "clips/intel_people-detection_preview.gif",
    "clips/intel_worker-zone-detection_preview.gif",
)


class FrameDifference:
    """The baseline: consecutive-frame difference at full resolution, no background."""

    def __init__(self) -> None:
        self.previous: np.ndarray | None = None
        self.min_area = 0.0005 * SIZE[0] * SIZE[1]

    def update(self, image: np.ndarray) -> list[tuple[int, int, int, int]]:
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        previous, self.previous = self.previous, gray
        if previous is None:
            return []
        _, changed = cv2.threshold(cv2.absdiff(gray, previous), 25, 255, cv2.THRESH_BINARY)
        contours, _ = cv2.findContours(changed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        return [cv2.boundingRect(c) for c in contours if cv2.contourArea(c) >= self.min_area]


def timed(call, *args) -> tuple[object, float]:  # type: ignore[no-untyped-def]
    """Result and the calling thread's CPU time in ms.  CPU time, not wall time: the dev box is
    shared, and wall time there measures other people's builds as much as this code.  OpenCV
    runs single-threaded here (set in main), so the thread's time is the whole cost."""
    started = time.thread_time_ns()
    result = call(*args)
    return result, (time.thread_time_ns() - started) / 1e6


class Evictor:
    """Copies 4 MB (about what decoding one 720p frame writes) to push the previous call's code
    and data out of the CPU caches.  (Timed back to back, whichever method ran second found its
    code and data cached and looked ~0.4 ms cheaper.)"""

    def __init__(self, megabytes: int = 4) -> None:
        self.src = np.ones(megabytes << 20, np.uint8)
        self.dst = np.empty_like(self.src)

    def __call__(self) -> None:
        np.copyto(self.dst, self.src)


def run_clip(path: Path, fps: float, config: MotionConfig, max_frames: int | None) -> dict:
    """Replay one clip through the three methods, interleaved frame by frame (so machine load
    hits them alike); return per-frame CPU ms per method and motion-active flags per path.

    Before each timed call the caches are flushed and then the 720p frame is written afresh
    (untimed), which is the state a frame decode leaves: the new frame in cache, the rest cold.
    """
    bgr = MotionDetector(config, SIZE)
    gray = MotionDetector(config, SIZE)
    baseline = FrameDifference()
    evict = Evictor()
    small = motion_size(SIZE, config.resolve().height)
    out: dict[str, list] = {"bgr": [], "gray": [], "baseline": [], "bgr_on": [], "gray_on": []}
    capture = cv2.VideoCapture(str(path))
    index = 0

    def fresh(decoded: np.ndarray) -> np.ndarray:
        evict()
        return cv2.resize(decoded, SIZE, interpolation=cv2.INTER_LINEAR)

    while max_frames is None or index < max_frames:
        ok, decoded = capture.read()
        if not ok:
            break
        stamp = index / fps
        image = fresh(decoded)
        result, ms = timed(bgr.update, Frame(image, stamp, index))
        out["bgr"].append(ms)
        out["bgr_on"].append(result.active)
        image = fresh(decoded)
        lores = shrink(image, small)  # the ISP's lores stream, not timed
        result, ms = timed(gray.update, Frame(image, stamp, index, gray_small=lores))
        out["gray"].append(ms)
        out["gray_on"].append(result.active)
        image = fresh(decoded)
        _, ms = timed(baseline.update, image)
        out["baseline"].append(ms)
        index += 1
    capture.release()
    for key in ("bgr", "gray", "baseline"):
        out[key] = out[key][1:]  # the first frame only initialises
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--footage", type=Path, default=Path("../shared/footage"))
    parser.add_argument("--sensitivity", default="medium", choices=["low", "medium", "high"])
    parser.add_argument("--max-frames", type=int, default=None)
    args = parser.parse_args()
    manifest_path = args.footage / "manifest.json"
    if not manifest_path.exists():
        print(f"footage manifest {manifest_path} not found", file=sys.stderr)
        return 2
    fps_of = {i["path"]: i["fps"] for i in json.loads(manifest_path.read_text())["items"]}
    cv2.setNumThreads(1)  # the Pi pipeline gives motion one core; keep timings comparable
    config = MotionConfig(sensitivity=args.sensitivity)
    print(f"motion: {config.resolve()}")
    times: dict[str, list[float]] = {"bgr": [], "gray": [], "baseline": []}
    shares = []
    for clip in CLIPS:
        path = args.footage / clip
        if not path.exists():
            print(f"skip {clip}: not found")
            continue
        out = run_clip(path, fps_of.get(clip) or 10.0, config, args.max_frames)
        for key in times:
            times[key].extend(out[key])
        shares.append((clip, len(out["bgr_on"]), np.mean(out["bgr_on"]), np.mean(out["gray_on"])))

    base = float(np.median(times["baseline"]))
    print(f"\nper 720p frame over {len(times['baseline'])} frames (ms)")
    print(f"{'':12s} {'median':>8s} {'p95':>8s} {'vs baseline':>12s}")
    for key in ("bgr", "gray", "baseline"):
        med, p95 = np.median(times[key]), np.percentile(times[key], 95)
        print(f"{key:12s} {med:8.3f} {p95:8.3f} {med / base:11.0%}")
    print("\nmotion active (detector would be called), share of frames")
    print(f"{'clip':48s} {'frames':>6s} {'bgr':>7s} {'gray':>7s} {'fewer calls':>11s}")
    for clip, n, on_bgr, on_gray in shares:
        print(f"{clip:48s} {n:6d} {on_bgr:7.1%} {on_gray:7.1%} {1 - on_bgr:11.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

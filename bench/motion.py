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
``.venv/bin/python bench/motion.py [--footage DIR] [--sensitivity medium] [--max-frames N]
[--low-light]``.
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


def presence(labels: dict, frames: int) -> float:
    """Share of frames with a labelled person, pet or vehicle in view."""
    seen = np.zeros(frames, bool)
    for key in ("person", "pet", "vehicle"):
        for lo, hi in labels.get(key, []):
            seen[lo : hi + 1] = True
    return float(seen.mean()) if frames else 0.0


def empty_wake(labels: dict, active: list[bool], trim: int = 5) -> str:
    """Share of labelled empty frames (ranges trimmed by ``trim`` at both ends) with motion."""
    frames = [
        i
        for lo, hi in labels.get("empty", [])
        for i in range(lo + trim, min(hi - trim, len(active) - 1) + 1)
    ]
    return f"{np.mean([active[i] for i in frames]):.1%}" if frames else "-"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--footage", type=Path, default=Path("tests/footage"))
    parser.add_argument("--sensitivity", default="medium", choices=["low", "medium", "high"])
    parser.add_argument("--max-frames", type=int, default=None)
    parser.add_argument("--low-light", action="store_true", help="motion.low_light: true")
    args = parser.parse_args()
    manifest_path = args.footage / "manifest.json"
    if not manifest_path.exists():
        print(f"footage manifest {manifest_path} not found", file=sys.stderr)
        return 2
    items = {i["path"]: i for i in json.loads(manifest_path.read_text())["items"]}
    cv2.setNumThreads(1)  # the Pi pipeline gives motion one core; keep timings comparable
    config = MotionConfig(sensitivity=args.sensitivity, low_light=args.low_light)
    print(f"motion: {config.resolve()}")
    times: dict[str, list[float]] = {"bgr": [], "gray": [], "baseline": []}
    rows = []
    for clip in CLIPS:
        path = args.footage / clip
        if not path.exists():
            print(f"skip {clip}: not found")
            continue
        item = items.get(clip, {})
        out = run_clip(path, item.get("fps") or 10.0, config, args.max_frames)
        for key in times:
            times[key].extend(out[key])
        on, labels = out["bgr_on"], item.get("labels", {})
        in_view, woke = presence(labels, len(on)), empty_wake(labels, on)
        rows.append((clip, len(on), np.mean(on), np.mean(out["gray_on"]), in_view, woke))

    base = float(np.median(times["baseline"]))
    print(f"\nCPU time per 720p frame over {len(times['baseline'])} frames (ms)")
    print(f"{'':12s} {'median':>8s} {'p95':>8s} {'vs baseline':>12s}")
    for key in ("bgr", "gray", "baseline"):
        med, p95 = np.median(times[key]), np.percentile(times[key], 95)
        print(f"{key:12s} {med:8.3f} {p95:8.3f} {med / base:11.0%}")
    print("\nmotion active = the detector would be called; 'in view' = labelled person/pet/vehicle")
    header = f"{'clip':46s} {'frames':>6s} {'bgr':>6s} {'gray':>6s} {'fewer':>6s}"
    print(f"{header} {'in view':>8s} {'empty woke':>11s}")
    for clip, n, on_bgr, on_gray, in_view, woke in rows:
        print(
            f"{clip.removeprefix('clips/'):46s} {n:6d} {on_bgr:6.1%} {on_gray:6.1%} "
            f"{1 - on_bgr:6.0%} {in_view:8.0%} {woke:>11s}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

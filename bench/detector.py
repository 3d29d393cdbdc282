"""Detector benchmark: model size, latency, and accuracy on the labelled footage, int8 vs float32.

Run from the repo root:  ``.venv/bin/python bench/detector.py [--runs 50] [--every 5]``

1. Size and latency of every manifest variant at 1 and 2 threads (median and p95 of ``--runs``
   inferences of a real letterboxed frame; the variants take turns run by run, so a load spike
   on a shared machine hits both alike).  Targets: int8 <= 27 % of float32 size and <= 55 % of
   its latency at both thread counts.
2. Frame-level precision and recall per label on ``tests/footage``: every ``--every``-th
   frame of each clip plus the stills, the whole frame as one region.  A frame counts as
   positive for a label when a detection of it reaches the tracker's threshold (and min_area).
   Frames within ``--margin`` frames of a labelled boundary are not scored (the manifest allows
   +-3..5).  Target: int8 within 1 point of float32.
3. Every frame of the dog clip: does any yield a ``person`` at the threshold?
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from camera.detect import DetectorConfig, load_detector
from camera.detect.letterbox import letterbox
from camera.detect.manifest import bundled_manifest, read_manifest
from camera.detect.runtime import load_model
from camera.sources import open_replay
from camera.track.config import TrackerConfig
from camera.types import PRECISIONS, Box, Region

FOOTAGE = Path("tests/footage")
DOG_CLIP = "clips/opencvcourse_dog.mp4"
LABELS = ("person", "pet")
SWEEP = (0.3, 0.4, 0.5, 0.6)
SIZE_TARGET, LATENCY_TARGET, ACCURACY_TARGET = 0.27, 0.55, 1.0


# -- 1. size and latency -------------------------------------------------------------------------


def latency(runs: int, image: np.ndarray) -> dict[tuple[str, int], list[float]]:
    specs = {s.precision: s for s in reversed(read_manifest(bundled_manifest()))}
    models = {
        (precision, threads): load_model(spec.path, threads)
        for precision, spec in specs.items()
        for threads in (1, 2)
    }
    pixels = {key: letterbox(image, specs[key[0]].input_size)[0] for key in models}
    times: dict[tuple[str, int], list[float]] = {key: [] for key in models}
    for key, model in models.items():
        for _ in range(3):
            model.run(pixels[key])
    for _ in range(runs):
        for key, model in models.items():
            start = time.perf_counter()
            model.run(pixels[key])
            times[key].append((time.perf_counter() - start) * 1000.0)
    return times


def print_speed(times: dict, summary: dict) -> None:
    specs = {s.precision: s for s in reversed(read_manifest(bundled_manifest()))}
    print("\n## Size and latency (ms per 416x416 inference)\n")
    header = "".join(f"{f'{t} thr med':>11}{'p95':>7}{'min':>7}" for t in (1, 2))
    print(f"{'variant':<24}{'size MB':>9}{header}")
    for precision, spec in specs.items():
        cells = ""
        for threads in (1, 2):
            t = times[(precision, threads)]
            cells += f"{np.median(t):>11.1f}{np.percentile(t, 95):>7.1f}{min(t):>7.1f}"
        print(f"{spec.name:<24}{spec.size / 1e6:>9.2f}{cells}")
    if not {"int8", "float32"} <= set(specs):
        return
    size_ratio = specs["int8"].size / specs["float32"].size
    summary["size_ratio"] = size_ratio
    print(f"\nint8/float32 size: {size_ratio:.1%}  (target <= {SIZE_TARGET:.0%})")
    for threads in (1, 2):
        q, f = times[("int8", threads)], times[("float32", threads)]
        ratio = np.median(q) / np.median(f)
        summary[f"latency_ratio_{threads}t"] = ratio
        summary[f"latency_ms_{threads}t"] = {"int8": np.median(q), "float32": np.median(f)}
        print(f"int8/float32 latency, {threads} thread(s): {ratio:.1%} of median, "
              f"{min(q) / min(f):.1%} of min  (target <= {LATENCY_TARGET:.0%})")  # fmt: skip


# -- 2. accuracy on the footage --------------------------------------------------------------------


@dataclass
class Frame:
    source: str
    image: np.ndarray
    truth: dict[str, bool]  # label -> present; a label missing here is not scored


@dataclass
class Tally:
    """Frame counts per (precision, label, threshold)."""

    counts: dict = field(default_factory=dict)

    def add(self, key: tuple, truth: bool, predicted: bool) -> None:
        tp, fp, fn, n = self.counts.get(key, (0, 0, 0, 0))
        self.counts[key] = (tp + (truth and predicted), fp + (predicted and not truth),
                            fn + (truth and not predicted), n + 1)  # fmt: skip

    def rates(self, key: tuple) -> tuple[float, float, int, int]:
        tp, fp, fn, n = self.counts.get(key, (0, 0, 0, 0))
        precision = tp / (tp + fp) if tp + fp else float("nan")
        recall = tp / (tp + fn) if tp + fn else float("nan")
        return precision * 100, recall * 100, tp + fn, n


def _in_ranges(index: int, ranges: list, margin: int = 0) -> bool:
    return any(a - margin <= index <= b + margin for a, b in ranges)


def _frame_truth(index: int, labels: dict, margin: int) -> dict[str, bool]:
    covered = [r for ranges in labels.values() if isinstance(ranges, list) for r in ranges]
    if not _in_ranges(index, covered):
        return {}
    truth = {}
    for label in LABELS:
        ranges = labels.get(label, [])
        inside = _in_ranges(index, ranges)
        near_edge = _in_ranges(index, ranges, margin) and not _in_ranges(
            index, [(a + margin, b - margin) for a, b in ranges]
        )
        if not near_edge:
            truth[label] = inside
    return truth


def _read(path: Path) -> Iterator[tuple[int, np.ndarray]]:
    """Decode-order frames of a clip, through the same replay source the pipeline uses."""
    source = open_replay(path)
    try:
        for frame in source.frames():
            yield frame.index, frame.image
    finally:
        source.close()


def footage_frames(every: int, margin: int) -> Iterator[Frame]:
    items = json.loads((FOOTAGE / "manifest.json").read_text())["items"]
    for item in items:
        path = FOOTAGE / item["path"]
        if item["path"].startswith("stills/"):
            labels = item["labels"]
            counts = {k: v for k, v in labels.items() if k != "other"}  # e.g. "person": 0
            pet = any(counts.get(k) for k in ("pet", "cat", "dog"))
            truth = {"person": bool(counts.get("person")), "pet": pet}
            yield Frame(item["path"], cv2.imread(str(path)), truth)
            continue
        for index, image in _read(path):
            truth = _frame_truth(index, item["labels"], margin)
            if index % every == 0 and truth:
                yield Frame(f"{item['path']}#{index}", image, truth)


def positive(detections, label: str, threshold: float, min_area: float, area: float) -> bool:
    return any(
        d.label == label and d.score >= threshold and d.box.area >= min_area * area
        for d in detections
    )


def evaluate(detector, frames: list[Frame], tracker: TrackerConfig) -> Tally:
    tally = Tally()
    for frame in frames:
        height, width = frame.image.shape[:2]
        region = [Region(Box(0, 0, width, height))]
        for precision in PRECISIONS:
            detector.set_precision(precision)
            found = detector.detect(frame.image, region)
            for label, truth in frame.truth.items():
                rule = tracker.rule(label)
                for threshold in sorted({*SWEEP, rule.threshold}):
                    hit = positive(found, label, threshold, rule.min_area, width * height)
                    tally.add((precision, label, threshold), truth, hit)
    return tally


def print_accuracy(tally: Tally, tracker: TrackerConfig, frames: list[Frame], summary: dict):
    print(f"\n## Frame-level accuracy on {FOOTAGE} ({len(frames)} frames, whole frame)\n")
    print(f"{'label':<8}{'thr':>5}  {'int8 P':>7}{'R':>7}  {'float P':>8}{'R':>7}"
          f"  {'dP':>6}{'dR':>6}  {'pos/frames':>11}")  # fmt: skip
    for label in LABELS:
        configured = tracker.rule(label).threshold
        for threshold in sorted({*SWEEP, configured}):
            p8, r8, pos, n = tally.rates(("int8", label, threshold))
            pf, rf, _, _ = tally.rates(("float32", label, threshold))
            mark = " <- tracker threshold" if threshold == configured else ""
            print(f"{label:<8}{threshold:>5.2f}  {p8:>7.1f}{r8:>7.1f}  {pf:>8.1f}{rf:>7.1f}"
                  f"  {p8 - pf:>+6.1f}{r8 - rf:>+6.1f}  {pos:>5}/{n:<5}{mark}")  # fmt: skip
            if threshold == configured:
                summary[label] = {"int8": [p8, r8], "float32": [pf, rf], "positives": pos, "n": n}
    worst = max(
        abs(summary[label]["int8"][i] - summary[label]["float32"][i])
        for label in LABELS
        for i in (0, 1)
    )
    summary["max_delta_points"] = worst
    print(f"\nlargest int8-float32 difference at the tracker thresholds: {worst:.1f} points"
          f"  (target <= {ACCURACY_TARGET:.0f})")  # fmt: skip


def dog_clip_check(detector, tracker: TrackerConfig, summary: dict) -> None:
    """Every frame of the dog clip: persons that should not be there, and the pet recall."""
    person, pet = tracker.rule("person"), tracker.rule("pet")
    people = {p: 0 for p in PRECISIONS}
    pets = {p: 0 for p in PRECISIONS}
    worst = {p: 0.0 for p in PRECISIONS}
    frames = 0
    for _, image in _read(FOOTAGE / DOG_CLIP):
        frames += 1
        height, width = image.shape[:2]
        for precision in PRECISIONS:
            detector.set_precision(precision)
            found = detector.detect(image, [Region(Box(0, 0, width, height))])
            scores = [d.score for d in found if d.label == "person"]
            worst[precision] = max([worst[precision], *scores])
            area = width * height
            people[precision] += positive(found, "person", person.threshold, person.min_area, area)
            pets[precision] += positive(found, "pet", pet.threshold, pet.min_area, area)
    print(f"\n## Dog clip ({DOG_CLIP}, all {frames} frames, a dog in every one)\n")
    for precision in PRECISIONS:
        print(f"{precision:<8} frames with a person >= {person.threshold:.2f}: "
              f"{people[precision]:>3}   highest person score: {worst[precision]:.2f}   "
              f"pet recall >= {pet.threshold:.2f}: {pets[precision] / frames:.1%}")  # fmt: skip
    summary["dog_clip"] = {
        "frames": frames,
        "person_frames": people,
        "max_person_score": worst,
        "pet_recall": {p: pets[p] / frames for p in PRECISIONS},
    }


def machine() -> str:
    flags = set()
    model = platform.processor() or platform.machine()
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
            if line.startswith(("flags", "Features")):
                flags = set(line.split(":", 1)[1].split())
                break
    simd = sorted(f for f in flags if f.startswith(("avx", "asimd", "neon")) or "vnni" in f)
    load = os.getloadavg()[0]
    return f"{model}, {os.cpu_count()} cores, {' '.join(simd)}; load average {load:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=50, help="timed inferences per variant")
    parser.add_argument("--every", type=int, default=5, help="score every n-th clip frame")
    parser.add_argument("--margin", type=int, default=5, help="frames not scored at boundaries")
    parser.add_argument("--json", type=Path, help="also write the summary here")
    parser.add_argument("--speed-only", action="store_true", help="skip the footage evaluation")
    args = parser.parse_args()

    import ai_edge_litert

    print(f"# Ronda detector benchmark\n\n{machine()}")
    print(f"runtime: ai_edge_litert {getattr(ai_edge_litert, '__version__', '?')}")
    summary: dict = {}
    if not (FOOTAGE / "manifest.json").exists():
        raise SystemExit(f"{FOOTAGE} not found: run from the repository root")
    still = cv2.imread(str(FOOTAGE / "stills" / "darknet_dog.jpg"))
    print_speed(latency(args.runs, still), summary)
    if not args.speed_only:
        accuracy(args, summary)
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2, default=float) + "\n")


def accuracy(args: argparse.Namespace, summary: dict) -> None:
    tracker = TrackerConfig()
    detector = load_detector(DetectorConfig())
    frames = list(footage_frames(args.every, args.margin))
    print_accuracy(evaluate(detector, frames, tracker), tracker, frames, summary)
    dog_clip_check(detector, tracker, summary)
    detector.close()


if __name__ == "__main__":
    main()

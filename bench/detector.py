"""Detector benchmark: every model variant's size, latency, and accuracy on the labelled footage.

Run from the repo root:  ``.venv/bin/python bench/detector.py [--runs 50] [--every 5]``
On a Pi, as its owner would:  ``.venv/bin/python bench/detector.py --speed-only``

1. Size and latency of every manifest variant at 1 and 2 threads (median and p95 of ``--runs``
   inferences of a real letterboxed frame; the variants take turns run by run, so a load spike
   on a shared machine hits all alike).  Per input size, int8 against float32: targets int8
   <= 27 % of float32's size and <= 55 % of its latency.
2. Frame-level precision and recall per label and variant on ``tests/footage``: every
   ``--every``-th frame of each clip plus the stills, the whole frame as one region.  A frame
   counts as positive for a label when a detection of it reaches the tracker's threshold (and
   min_area).  Frames within ``--margin`` frames of a labelled boundary are not scored (the
   manifest allows +-3..5).  Target: int8 within 1 point of float32 at each input size.
3. Every frame of the dog clip: does any variant yield a ``person`` at the threshold?
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

from camera.detect import DetectorConfig
from camera.detect.letterbox import letterbox
from camera.detect.manifest import ModelSpec, bundled_manifest, read_manifest
from camera.detect.runtime import load_model
from camera.detect.selection import by_accuracy
from camera.detect.tflite import TFLiteDetector
from camera.sources import open_replay
from camera.track.config import TrackerConfig
from camera.types import Box, Region

FOOTAGE = Path("tests/footage")
DOG_CLIP = "clips/opencvcourse_dog.mp4"
LABELS = ("person", "pet")
SWEEP = (0.3, 0.4, 0.5, 0.6)
SIZE_TARGET, LATENCY_TARGET, ACCURACY_TARGET = 0.27, 0.55, 1.0


def variants(manifests: list[Path] | None = None) -> list[ModelSpec]:
    """Every variant of ``manifests`` (default: the bundled one), most accurate first."""
    specs = [s for m in manifests or [bundled_manifest()] for s in read_manifest(m)]
    return by_accuracy(specs)


def pairs(specs: list[ModelSpec]) -> list[tuple[ModelSpec, ModelSpec]]:
    """(int8, float32) of the same family and input size."""
    found = []
    for family in dict.fromkeys(s.family for s in specs):
        for size in sorted({s.input_size for s in specs}, reverse=True):
            same = {s.precision: s for s in specs if s.input_size == size and s.family == family}
            if {"int8", "float32"} <= set(same):
                found.append((same["int8"], same["float32"]))
    return found


def short(spec: ModelSpec) -> str:
    """The variant name without its family prefix, for narrow table columns."""
    return spec.name.split("-", 1)[-1]


# -- 1. size and latency -------------------------------------------------------------------------


def latency(runs: int, image: np.ndarray, specs: list[ModelSpec]) -> dict[tuple[str, int], list]:
    models = {
        (spec.name, threads): load_model(spec.path, threads) for spec in specs for threads in (1, 2)
    }
    sizes = {spec.name: spec.input_size for spec in specs}
    pixels = {key: letterbox(image, sizes[key[0]])[0] for key in models}
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


def print_speed(times: dict, specs: list[ModelSpec], summary: dict) -> None:
    print("\n## Size and latency (ms per inference at the variant's input size)\n")
    header = "".join(f"{f'{t} thr med':>11}{'p95':>7}{'min':>7}" for t in (1, 2))
    print(f"{'variant':<24}{'size MB':>9}{header}")
    for spec in specs:
        cells = ""
        for threads in (1, 2):
            t = times[(spec.name, threads)]
            cells += f"{np.median(t):>11.1f}{np.percentile(t, 95):>7.1f}{min(t):>7.1f}"
            summary.setdefault("latency_ms", {}).setdefault(spec.name, {})[threads] = float(
                np.median(t)
            )
        print(f"{spec.name:<24}{spec.size / 1e6:>9.2f}{cells}")
    summary["size_mb"] = {s.name: s.size / 1e6 for s in specs}
    summary["models_mb_total"] = sum(s.size for s in specs) / 1e6
    print(f"\nall variants together: {summary['models_mb_total']:.1f} MB")
    for q_spec, f_spec in pairs(specs):
        size_ratio = q_spec.size / f_spec.size
        print(f"\n{short(q_spec)}: int8/float32 size {size_ratio:.1%}"
              f"  (target <= {SIZE_TARGET:.0%})")  # fmt: skip
        for threads in (1, 2):
            q, f = times[(q_spec.name, threads)], times[(f_spec.name, threads)]
            ratio = np.median(q) / np.median(f)
            summary.setdefault("latency_ratio", {})[f"{short(q_spec)}/{threads}t"] = ratio
            best = min(q) / min(f)
            print(f"{short(q_spec)}: int8/float32 latency, {threads} thread(s): "
                  f"{ratio:.1%} of median, {best:.1%} of min  "
                  f"(target <= {LATENCY_TARGET:.0%})")  # fmt: skip


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


def evaluate(detector, names: list[str], frames: list[Frame], tracker: TrackerConfig) -> Tally:
    tally = Tally()
    for frame in frames:
        height, width = frame.image.shape[:2]
        region = [Region(Box(0, 0, width, height))]
        for name in names:
            detector.set_variant(name)
            found = detector.detect(frame.image, region)
            for label, truth in frame.truth.items():
                rule = tracker.rule(label)
                for threshold in sorted({*SWEEP, rule.threshold}):
                    hit = positive(found, label, threshold, rule.min_area, width * height)
                    tally.add((name, label, threshold), truth, hit)
    return tally


def print_accuracy(
    tally: Tally, specs: list[ModelSpec], tracker: TrackerConfig, frames: list[Frame], summary: dict
) -> None:
    print(f"\n## Frame-level accuracy on {FOOTAGE} ({len(frames)} frames, whole frame)\n")
    print(f"{'label':<8}{'thr':>5}  " + "".join(f"{short(s):>16}" for s in specs)
          + "   (precision / recall %)")  # fmt: skip
    for label in LABELS:
        configured = tracker.rule(label).threshold
        for threshold in sorted({*SWEEP, configured}):
            cells = ""
            for spec in specs:
                p, r, pos, n = tally.rates((spec.name, label, threshold))
                cells += f"{p:>9.1f} /{r:>5.1f}"
                if threshold == configured:
                    summary.setdefault("accuracy", {}).setdefault(spec.name, {})[label] = [p, r]
                    summary.setdefault("positives", {})[label] = [pos, n]
            mark = "  <- tracker threshold" if threshold == configured else ""
            print(f"{label:<8}{threshold:>5.2f}  {cells}{mark}")
    worst = 0.0
    print("\nint8 - float32 at the tracker thresholds (points):")
    for q_spec, f_spec in pairs(specs):
        for label in LABELS:
            q, f = summary["accuracy"][q_spec.name][label], summary["accuracy"][f_spec.name][label]
            dp, dr = q[0] - f[0], q[1] - f[1]
            worst = max(worst, abs(dp), abs(dr))
            print(f"  {short(q_spec):<16} {label:<7} precision {dp:+5.1f}  recall {dr:+5.1f}")
    summary["max_delta_points"] = worst
    print(f"largest int8-float32 difference: {worst:.1f} points  (target <= {ACCURACY_TARGET:.0f})")


def dog_clip_check(detector, specs: list[ModelSpec], tracker: TrackerConfig, summary: dict) -> None:
    """Every frame of the dog clip: persons that should not be there, and the pet recall."""
    person, pet = tracker.rule("person"), tracker.rule("pet")
    names = [s.name for s in specs]
    people = dict.fromkeys(names, 0)
    pets = dict.fromkeys(names, 0)
    worst = dict.fromkeys(names, 0.0)
    frames = 0
    for _, image in _read(FOOTAGE / DOG_CLIP):
        frames += 1
        height, width = image.shape[:2]
        area = width * height
        for name in names:
            detector.set_variant(name)
            found = detector.detect(image, [Region(Box(0, 0, width, height))])
            scores = [d.score for d in found if d.label == "person"]
            worst[name] = max([worst[name], *scores])
            people[name] += positive(found, "person", person.threshold, person.min_area, area)
            pets[name] += positive(found, "pet", pet.threshold, pet.min_area, area)
    print(f"\n## Dog clip ({DOG_CLIP}, all {frames} frames, a dog in every one)\n")
    for name in names:
        print(f"{name:<24} frames with a person >= {person.threshold:.2f}: {people[name]:>3}   "
              f"highest person score: {worst[name]:.2f}   "
              f"pet recall >= {pet.threshold:.2f}: {pets[name] / frames:.1%}")  # fmt: skip
    summary["dog_clip"] = {
        "frames": frames,
        "person_frames": people,
        "max_person_score": worst,
        "pet_recall": {n: pets[n] / frames for n in names},
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
    parser.add_argument(
        "--manifest",
        type=Path,
        action="append",
        help="a models manifest to take variants from (repeatable; default: the bundled one), "
        "e.g. a survey candidate's next to the shipped NanoDet",
    )
    args = parser.parse_args()

    import ai_edge_litert

    print(f"# Ronda detector benchmark\n\n{machine()}")
    print(f"runtime: ai_edge_litert {getattr(ai_edge_litert, '__version__', '?')}")
    summary: dict = {}
    if not (FOOTAGE / "manifest.json").exists():
        raise SystemExit(f"{FOOTAGE} not found: run from the repository root")
    still = cv2.imread(str(FOOTAGE / "stills" / "darknet_dog.jpg"))
    specs = variants(args.manifest)
    print_speed(latency(args.runs, still, specs), specs, summary)
    if not args.speed_only:
        accuracy(args, specs, summary)
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2, default=float) + "\n")


def accuracy(args: argparse.Namespace, specs: list[ModelSpec], summary: dict) -> None:
    tracker = TrackerConfig()
    detector = TFLiteDetector.open(specs, DetectorConfig())  # every variant, not a ladder
    frames = list(footage_frames(args.every, args.margin))
    names = [s.name for s in specs]
    print_accuracy(evaluate(detector, names, frames, tracker), specs, tracker, frames, summary)
    dog_clip_check(detector, specs, tracker, summary)
    detector.close()


if __name__ == "__main__":
    main()

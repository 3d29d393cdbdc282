"""Detector survey: every model variant's size, arithmetic, latency and accuracy, in one run.

Run from the repo root:  ``nice -n 10 .venv/bin/python bench/detector.py --manifest A --manifest B``
On a Pi, as its owner would:  ``.venv/bin/python bench/detector.py --speed-only``

1. **Cost**: file size, G multiply-accumulates (counted from the TFLite graph's convolutions and
   fully connected layers), latency at each ``--threads`` count (median and min of ``--runs``
   inferences of a real letterboxed photo; the variants take turns run by run, so a load spike
   on a shared machine hits all alike), and the Pi 4 / Pi 5 / Zero 2 W estimate of
   ``docs/models.md`` (published TFLite figures scaled by the arithmetic).
2. **Frames**: precision and recall per label on every ``--every``-th frame of each clip of each
   ``--frames`` manifest (default ``tests/footage``; the eval set's and real footage's
   manifests work as they are) plus its stills, the whole frame as one region.  A frame is
   positive for a label when a detection of it reaches the tracker's threshold (and min_area);
   at that threshold and over a sweep.  Frames within ``--margin`` frames of a labelled
   boundary are not scored for that label.  The clips that gave each variant its false
   positives are named, since a false "person" is the complaint owners have about peers.
3. **int8 - float32** per variant pair (same name but the precision): target within 1 point.
4. **Events** (``--events MANIFEST``, repeatable): ``ronda eval`` on each manifest with each
   variant pinned (``detector.variant``), in this process: precision, recall, alerts per visit,
   confusions, false alarms, still things alerted.

The summary (``--json``) holds every number printed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
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
from camera.eval.manifest import load_manifest
from camera.sources import open_replay
from camera.track.config import TrackerConfig
from camera.types import Box, Region

FOOTAGE = Path("tests/footage/manifest.json")
PHOTO = Path("tests/footage/stills/darknet_dog.jpg")
LABELS = ("person", "pet")
SWEEP = (0.3, 0.4, 0.5, 0.6, 0.7)
SIZE_TARGET, LATENCY_TARGET, ACCURACY_TARGET = 0.27, 0.55, 1.0
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")

# Pi estimates (docs/models.md, "What to expect"): XNNPACK's README, MobileNet v2 (0.30 G MAC) on
# a Pi 4 with 4 threads: 46 ms float32, 17 ms int8; Ronda's 2 threads take about twice that.
# Pi 5: 4.8x faster than a Pi 4 on the same TFLite models (Alasdair Allan's benchmarks:
# MobileNet v2 112.6 vs 23.5 ms).  Zero 2 W: the Pi 3 B+'s SoC at 1.0 instead of 1.4 GHz; Allan
# has the Pi 3 B+ 3.37x slower than a Pi 4 (379.6 vs 112.6 ms), so 3.37 x 1.4 = 4.7x.
MOBILENET_V2_GMAC = 0.30
PI4_4T_MS = {"float32": 46.0, "int8": 17.0}
PI5_SPEEDUP, ZERO2_SLOWDOWN = 4.8, 4.7


def variants(manifests: list[Path] | None = None) -> tuple[list[ModelSpec], dict[str, Path]]:
    """Every variant of ``manifests`` (default: the bundled one), most accurate first, and the
    manifest each came from (``ronda eval`` pins a variant of one manifest)."""
    specs, origin = [], {}
    for manifest in manifests or [bundled_manifest()]:
        for spec in read_manifest(manifest):
            specs.append(spec)
            origin[spec.name] = manifest
    return by_accuracy(specs), origin


def pairs(specs: list[ModelSpec]) -> list[tuple[ModelSpec, ModelSpec]]:
    """(int8, float32) pairs: variants whose names differ only in the precision."""
    by_name = {s.name: s for s in specs}
    found = []
    for spec in specs:
        if spec.precision == "int8":
            twin = by_name.get(spec.name.replace("int8", "float32"))
            if twin is not None and twin.precision == "float32":
                found.append((spec, twin))
    return found


# -- 1. cost ---------------------------------------------------------------------------------------


MAC_OPS = {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV"}


def gmac(spec: ModelSpec) -> float | None:
    """G multiply-accumulates of one inference, from the TFLite graph (None for other files)."""
    if spec.path.suffix != ".tflite":
        return None
    model = load_model(spec.path, 1)
    interpreter = model.interpreter
    shapes = {t["index"]: t["shape"] for t in interpreter.get_tensor_details()}  # type: ignore[attr-defined]
    total = 0
    for op in interpreter._get_ops_details():  # type: ignore[attr-defined]
        if op["op_name"] not in MAC_OPS:
            continue
        output = shapes[op["outputs"][0]]
        weights = shapes[op["inputs"][1]]
        if op["op_name"] == "DEPTHWISE_CONV_2D":  # weights [1, kh, kw, channels]
            total += int(np.prod(output)) * int(weights[1]) * int(weights[2])
        elif op["op_name"] == "FULLY_CONNECTED":  # weights [out, in]
            total += int(np.prod(output)) * int(weights[1])
        else:  # CONV_2D / TRANSPOSE_CONV weights [out, kh, kw, in]
            total += int(np.prod(output)) * int(np.prod(weights[1:]))
    return total / 1e9


def pi_estimates(spec: ModelSpec, g: float | None) -> dict[str, float] | None:
    """Pi 4, Pi 5 and Zero 2 W milliseconds with 2 threads, scaled by the arithmetic."""
    if g is None:
        return None
    pi4 = g / MOBILENET_V2_GMAC * PI4_4T_MS[spec.precision] * 2
    return {"pi4": pi4, "pi5": pi4 / PI5_SPEEDUP, "zero2w": pi4 * ZERO2_SLOWDOWN}


def latency(
    runs: int, image: np.ndarray, specs: list[ModelSpec], threads: list[int]
) -> dict[tuple[str, int], list[float]]:
    times: dict[tuple[str, int], list[float]] = {}
    for count in threads:  # one thread count at a time: fewer interpreters in memory
        models = {spec.name: load_model(spec.path, count) for spec in specs}
        pixels = {s.name: letterbox(image, s.input_size)[0] for s in specs}
        for name, model in models.items():
            for _ in range(3):
                model.run(pixels[name])
            times[(name, count)] = []
        for _ in range(runs):
            for name, model in models.items():
                start = time.perf_counter()
                model.run(pixels[name])
                times[(name, count)].append((time.perf_counter() - start) * 1000.0)
        del models
    return times


def print_cost(times: dict, specs: list[ModelSpec], threads: list[int], summary: dict) -> None:
    print(f"\n## Cost (ms per inference at the variant's input size; load {_load()})\n")
    header = "".join(f"{f'{t}t med':>9}{'min':>7}" for t in threads)
    print(f"{'variant':<26}{'MB':>6}{'G MAC':>7}{header}{'Pi4 2t':>8}{'Pi5 2t':>8}{'Zero2W':>8}")
    cost = summary.setdefault("cost", {})
    for spec in specs:
        g = gmac(spec)
        estimate = pi_estimates(spec, g)
        row = cost.setdefault(spec.name, {"size_mb": spec.size / 1e6, "gmac": g, "pi": estimate})
        cells = ""
        for count in threads:
            t = times[(spec.name, count)]
            cells += f"{np.median(t):>9.1f}{min(t):>7.1f}"
            row.setdefault("median_ms", {})[count] = float(np.median(t))
            row.setdefault("min_ms", {})[count] = float(min(t))
        g_text = f"{g:>7.2f}" if g is not None else f"{'–':>7}"
        pis = "".join(f"{estimate[k]:>8.0f}" for k in ("pi4", "pi5", "zero2w")) if estimate else ""
        print(f"{spec.name:<26}{spec.size / 1e6:>6.2f}{g_text}{cells}{pis}")
    for q_spec, f_spec in pairs(specs):
        size_ratio = q_spec.size / f_spec.size
        ratios = ", ".join(
            f"{count}t {np.median(times[(q_spec.name, count)]) / np.median(times[(f_spec.name, count)]):.0%}"  # noqa: E501
            for count in threads
        )
        print(f"{q_spec.name}: int8/float32 size {size_ratio:.1%} (target <= {SIZE_TARGET:.0%}), "
              f"latency {ratios} (target <= {LATENCY_TARGET:.0%})")  # fmt: skip


# -- 2. accuracy on labelled frames ----------------------------------------------------------------


@dataclass
class Frame:
    part: str
    source: str
    image: np.ndarray
    truth: dict[str, bool]  # label -> present; a label missing here is not scored


@dataclass
class Tally:
    """Frame counts per (variant, part, label, threshold), and where false positives came from."""

    counts: dict = field(default_factory=dict)
    false_from: dict = field(default_factory=dict)
    missed_from: dict = field(default_factory=dict)

    def add(self, key: tuple, truth: bool, predicted: bool) -> None:
        tp, fp, fn, n = self.counts.get(key, (0, 0, 0, 0))
        self.counts[key] = (tp + (truth and predicted), fp + (predicted and not truth),
                            fn + (truth and not predicted), n + 1)  # fmt: skip

    def rates(self, key: tuple) -> tuple[float, float, int, int]:
        """precision %, recall %, positives, frames; summed over parts when key[1] is None."""
        if key[1] is None:
            rows = [v for k, v in self.counts.items() if (k[0], *k[2:]) == (key[0], *key[2:])]
        else:
            rows = [self.counts.get(key, (0, 0, 0, 0))]
        tp, fp, fn, n = (sum(column) for column in zip(*rows, strict=True)) if rows else (0,) * 4
        precision = tp / (tp + fp) if tp + fp else float("nan")
        recall = tp / (tp + fn) if tp + fn else float("nan")
        return precision * 100, recall * 100, tp + fn, n


def _near_edge(index: int, ranges: list, margin: int) -> bool:
    return any(abs(index - a) <= margin or abs(index - b) <= margin for a, b in ranges)


def _read(path: Path) -> Iterator[tuple[int, np.ndarray]]:
    """Decode-order frames of a clip, through the same replay source the pipeline uses."""
    source = open_replay(path)
    try:
        for frame in source.frames():
            yield frame.index, frame.image
    finally:
        source.close()


def _still_truth(labels: dict) -> dict[str, bool]:
    counts = {k: v for k, v in labels.items() if k != "other"}  # e.g. "person": 0
    return {
        "person": bool(counts.get("person")),
        "pet": any(counts.get(k) for k in ("pet", "cat", "dog")),
    }


def labelled_frames(
    manifest: Path, every: int, margin: int, only: Sequence[str] = (), quiet_every: int = 0
) -> Iterator[Frame]:
    """Frames of every clip of ``manifest`` (every ``every``-th; of a clip without any visit
    every ``quiet_every``-th when given) and its stills, with truth; with ``only``, of the items
    whose path contains one of those texts."""
    part = manifest.parent.name
    for item in json.loads(manifest.read_text())["items"]:
        path = manifest.parent / item["path"]
        if path.suffix.lower() in IMAGE_SUFFIXES and _chosen(item["path"], only):
            yield Frame(part, item["path"], cv2.imread(str(path)), _still_truth(item["labels"]))
    for clip in load_manifest(manifest).clips:
        if not _chosen(clip.name, only):
            continue
        ranges = {label: [(v.first, v.last) for v in clip.visits if v.label == label]
                  for label in LABELS}  # fmt: skip
        step = quiet_every if quiet_every and not clip.visits else every
        for index, image in _read(clip.path):
            if index % step:
                continue
            truth = {
                label: any(a <= index <= b for a, b in spans)
                for label, spans in ranges.items()
                if not _near_edge(index, spans, margin)
            }
            if truth:
                yield Frame(part, f"{clip.name}#{index}", image, truth)


def _chosen(name: str, only: Sequence[str]) -> bool:
    return not only or any(text in name for text in only)


def positive(detections, label: str, threshold: float, min_area: float, area: float) -> bool:
    return any(
        d.label == label and d.score >= threshold and d.box.area >= min_area * area
        for d in detections
    )


def thresholds(tracker: TrackerConfig, label: str) -> list[float]:
    return sorted({*SWEEP, tracker.rule(label).threshold})


def evaluate(
    specs: list[ModelSpec],
    frames: Iterator[Frame],
    tracker: TrackerConfig,
    tally: Tally,
    config: DetectorConfig,
) -> int:
    """Run every variant on every frame (whole frame as one region); returns the frame count."""
    detectors = {s.name: TFLiteDetector.open([s], config) for s in specs}
    count = 0
    for frame in frames:
        count += 1
        if count % 100 == 0:
            print(f"  ... {count} frames ({frame.source}, load {_load()})", flush=True)
        height, width = frame.image.shape[:2]
        region = [Region(Box(0, 0, width, height))]
        for name, detector in detectors.items():
            found = detector.detect(frame.image, region)
            for label, truth in frame.truth.items():
                rule = tracker.rule(label)
                for threshold in thresholds(tracker, label):
                    hit = positive(found, label, threshold, rule.min_area, width * height)
                    tally.add((name, frame.part, label, threshold), truth, hit)
                    if hit != truth and threshold == rule.threshold:
                        clip = frame.source.split("#")[0]
                        where = tally.false_from if hit else tally.missed_from
                        where.setdefault((name, label), Counter())[clip] += 1
    for detector in detectors.values():
        detector.close()
    return count


def print_accuracy(
    tally: Tally, specs: list[ModelSpec], tracker: TrackerConfig, parts: list[str], summary: dict
) -> None:
    accuracy = summary.setdefault("accuracy", {})
    for part in [*parts, None] if len(parts) > 1 else parts:
        title = part or "all parts together"
        summary["overall"] = title
        print(f"\n## Frames: {title} (precision / recall %, whole frame as one region)\n")
        print(f"{'variant':<26}" + "".join(
            f"{label} {t:.2f}".rjust(14) for label in LABELS for t in thresholds(tracker, label)
            if t in (0.4, tracker.rule(label).threshold, 0.6)))  # fmt: skip
        for spec in specs:
            cells = ""
            for label in LABELS:
                for threshold in thresholds(tracker, label):
                    p, r, positives, n = tally.rates((spec.name, part, label, threshold))
                    entry = accuracy.setdefault(spec.name, {}).setdefault(title, {})
                    entry.setdefault(label, {})[f"{threshold:.2f}"] = [p, r, positives, n]
                    if threshold in (0.4, tracker.rule(label).threshold, 0.6):
                        cells += f"{p:>8.1f}/{r:>5.1f}"
            print(f"{spec.name:<26}{cells}")
        first = specs[0].name
        positives = {
            label: tally.rates((first, part, label, tracker.rule(label).threshold))[2:]
            for label in LABELS
        }
        print("positives / frames scored: " + ", ".join(
            f"{label} {pos} of {n}" for label, (pos, n) in positives.items()))  # fmt: skip
    for title, tallied, key in (
        ("False positives", tally.false_from, "false_positives"),
        ("Misses", tally.missed_from, "misses"),
    ):
        print(f"\n## {title} at the alert threshold, by clip (the four worst)\n")
        for spec in specs:
            for label in LABELS:
                worst = tallied.get((spec.name, label), Counter()).most_common(4)
                if worst:
                    where = ", ".join(f"{clip} {n}" for clip, n in worst)
                    print(f"{spec.name:<26} {label:<7} {where}")
                    summary.setdefault(key, {}).setdefault(spec.name, {})[label] = worst


def print_deltas(specs: list[ModelSpec], tracker: TrackerConfig, summary: dict) -> None:
    found = pairs(specs)
    if not found:
        return
    print("\n## int8 - float32 at the alert thresholds, all parts (points)\n")
    worst = 0.0
    title = summary["overall"]
    for q_spec, f_spec in found:
        for label in LABELS:
            key = f"{tracker.rule(label).threshold:.2f}"
            q = summary["accuracy"][q_spec.name][title][label][key]
            f = summary["accuracy"][f_spec.name][title][label][key]
            dp, dr = q[0] - f[0], q[1] - f[1]
            worst = max(worst, abs(dp), abs(dr))
            print(f"  {q_spec.name:<26} {label:<7} precision {dp:+5.1f}  recall {dr:+5.1f}")
    summary["max_delta_points"] = worst
    print(f"largest int8-float32 difference: {worst:.1f} points  (target <= {ACCURACY_TARGET:.0f})")


# -- 4. events -------------------------------------------------------------------------------------


def events(
    specs: list[ModelSpec],
    origin: dict[str, Path],
    manifests: list[Path],
    detector: DetectorConfig,
    only: Sequence[str],
    summary: dict,
) -> None:
    """``ronda eval`` on each manifest with each variant pinned (in this process)."""
    from camera import cli

    print(f"\n## Events: ronda eval, each variant pinned (load {_load()})\n")
    print(f"{'variant':<26}{'manifest':<34}{'visits':>7}{'alerts':>7}{'prec':>6}{'recall':>7}"
          f"{'a/visit':>8}{'false':>6}{'still':>6}  confusions")  # fmt: skip
    timings = ",".join(f"{s.name}=1" for s in specs)  # pinned: nothing to time
    with tempfile.TemporaryDirectory(prefix="ronda-bench-") as scratch, _env(timings):
        for spec in specs:
            for manifest in manifests:
                config = Path(scratch) / "config.yaml"
                config.write_text(
                    "mqtt: {enabled: false}\n"
                    f"detector: {{manifest: '{origin[spec.name].resolve()}', "
                    f"variant: {spec.name}, "
                    f"night_contrast: {str(detector.night_contrast).lower()}}}\n"
                )
                out = Path(scratch) / "numbers.json"
                with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
                    cli.main(["eval", str(manifest), "--config", str(config), "--json", str(out),
                              "--report", str(Path(scratch) / "report.html"),
                              *(f"--only={text}" for text in only)])  # fmt: skip
                overall = json.loads(out.read_text())["overall"]
                summary.setdefault("events", {}).setdefault(spec.name, {})[str(manifest)] = overall
                print(f"{spec.name:<26}{str(manifest)[-33:]:<34}{overall['visits']:>7}"
                      f"{overall['alerts']:>7}{_num(overall['precision']):>6}"
                      f"{_num(overall['recall']):>7}{_num(overall['alerts_per_visit']):>8}"
                      f"{overall['false_alarms']:>6}{overall['still_alerts']:>6}  "
                      f"{overall['confusions'] or 'none'}", flush=True)  # fmt: skip


@contextlib.contextmanager
def _env(timings: str) -> Iterator[None]:
    previous = os.environ.get("RONDA_MODEL_TIMINGS")
    os.environ["RONDA_MODEL_TIMINGS"] = timings
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("RONDA_MODEL_TIMINGS", None)
        else:
            os.environ["RONDA_MODEL_TIMINGS"] = previous


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _load() -> str:
    return "average " + " / ".join(f"{x:.1f}" for x in os.getloadavg())


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
    return f"{model}, {os.cpu_count()} cores, {' '.join(simd)}; load {_load()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="timed inferences per variant")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--every", type=int, default=5, help="score every n-th clip frame")
    parser.add_argument("--quiet-every", type=int, default=0, help="n for clips with no visit")
    parser.add_argument("--margin", type=int, default=5, help="frames not scored at boundaries")
    parser.add_argument("--json", type=Path, help="also write the summary here")
    parser.add_argument("--speed-only", action="store_true", help="cost only, no footage")
    parser.add_argument("--no-speed", action="store_true", help="no cost measurement")
    parser.add_argument("--no-frames", action="store_true", help="no frame scoring")
    parser.add_argument(
        "--night-contrast", action="store_true", help="detector.night_contrast on (CLAHE on IR)"
    )
    parser.add_argument(
        "--only-clips", action="append", default=[], help="score/replay clips whose path has TEXT"
    )
    parser.add_argument(
        "--manifest",
        type=Path,
        action="append",
        help="a models manifest to take variants from (repeatable; default: the bundled one)",
    )
    parser.add_argument("--only", action="append", default=[], help="variants whose name has TEXT")
    parser.add_argument(
        "--frames",
        type=Path,
        action="append",
        help=f"a labelled manifest to score frames of (repeatable; default {FOOTAGE})",
    )
    parser.add_argument(
        "--events", type=Path, action="append", default=[], help="ronda eval this manifest too"
    )
    args = parser.parse_args()

    import ai_edge_litert

    print(f"# Ronda detector survey\n\n{machine()}")
    print(f"runtime: ai_edge_litert {getattr(ai_edge_litert, '__version__', '?')}")
    summary: dict = {"machine": machine()}
    specs, origin = variants(args.manifest)
    specs = [s for s in specs if not args.only or any(t in s.name for t in args.only)]
    if not args.no_speed:
        still = cv2.imread(str(PHOTO))
        print_cost(latency(args.runs, still, specs, args.threads), specs, args.threads, summary)
    detector_config = DetectorConfig(night_contrast=args.night_contrast)
    if not (args.speed_only or args.no_frames):
        tracker = TrackerConfig()
        tally = Tally()
        manifests = args.frames or [FOOTAGE]
        for manifest in manifests:
            frames = labelled_frames(
                manifest, args.every, args.margin, args.only_clips, args.quiet_every
            )
            n = evaluate(specs, frames, tracker, tally, detector_config)
            print(f"scored {n} frames of {manifest} (load {_load()})", flush=True)
        print_accuracy(tally, specs, tracker, [m.parent.name for m in manifests], summary)
        print_deltas(specs, tracker, summary)
    if args.events:
        events(specs, origin, args.events, detector_config, args.only_clips, summary)
    print(f"\nload at the end: {_load()}")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1, default=float) + "\n")


if __name__ == "__main__":
    main()

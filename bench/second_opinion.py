"""Would a second opinion on the crop fix the detector's person/pet mistakes, and at what cost?

Run from the repo root:
``nice -n 10 .venv/bin/python bench/second_opinion.py --classifier FILE [--manifest M --variant V]
[--frames MANIFEST ...]``

On every ``--every``-th labelled frame with only persons or only pets in view (the whole frame
as one region, as ``bench/detector.py`` scores), every detection at or above the detector's
candidate floor is shown to the ImageNet classifier (``bench/pet_classifier.py``), and its
cat + dog probability tallied by what the detection should have been:

- a **person** detection on a pet-only frame (the kitten read as a person) is fixed when the
  classifier's pet probability reaches ``tau`` (the track would become a pet);
- a **person** detection on a person-only frame is broken when it does (a person made a pet);
- a **pet** detection on a person-only frame (a pedestrian read as a dog) is vetoed when the
  probability stays below ``tau``; a **pet** on a pet-only frame is lost when it does.

Counted at the tracker's alert threshold and, since a hesitant track is made of middling
scores, for every candidate; over a sweep of ``tau``.  Plus the classifier's latency here.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.detector import FOOTAGE, labelled_frames, variants
from bench.pet_classifier import PetClassifier
from camera.detect import DetectorConfig
from camera.detect.tflite import TFLiteDetector
from camera.track.config import TrackerConfig
from camera.types import Box, Region

TAUS = (0.1, 0.2, 0.3, 0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--classifier", type=Path, required=True)
    parser.add_argument("--manifest", type=Path, action="append")
    parser.add_argument("--variant", action="append", default=[], help="default: every one")
    parser.add_argument("--frames", type=Path, action="append")
    parser.add_argument("--every", type=int, default=5)
    parser.add_argument("--margin", type=int, default=5)
    parser.add_argument("--quiet-every", type=int, default=0)
    parser.add_argument("--only-clips", action="append", default=[])
    args = parser.parse_args()

    classifier = PetClassifier(args.classifier)
    specs, _ = variants(args.manifest)
    specs = [s for s in specs if not args.variant or s.name in args.variant]
    tracker = TrackerConfig()
    floor = DetectorConfig().min_score
    detectors = {s.name: TFLiteDetector.open([s], DetectorConfig()) for s in specs}
    # (variant, what it is, what it should be, alert-threshold or any) -> pet probabilities
    seen: dict[tuple[str, str, str, bool], list[float]] = {}
    where: Counter[tuple[str, str]] = Counter()
    spent: list[float] = []
    for manifest in args.frames or [FOOTAGE]:
        frames = labelled_frames(
            manifest, args.every, args.margin, args.only_clips, args.quiet_every
        )
        for frame in frames:
            present = [label for label, truth in frame.truth.items() if truth]
            if len(present) != 1 or len(frame.truth) != 2:
                continue  # both in view, or one label's truth unknown: no clear right answer
            should = present[0]
            height, width = frame.image.shape[:2]
            for name, detector in detectors.items():
                for found in detector.detect(frame.image, [Region(Box(0, 0, width, height))]):
                    if found.score < floor:
                        continue
                    start = time.perf_counter()
                    pet = classifier.opinion(frame.image, found.box).pet
                    spent.append((time.perf_counter() - start) * 1000)
                    alert = found.score >= tracker.rule(found.label).threshold
                    for strong in {False, alert}:
                        seen.setdefault((name, found.label, should, strong), []).append(pet)
                    if found.label != should and alert:
                        where[(name, frame.source.split("#")[0])] += 1
    print(f"classifier: median {np.median(spent):.1f} ms per crop here ({len(spent)} crops)")
    for name in detectors:
        print(f"\n## {name}\n")
        for strong in (True, False):
            print("at the alert threshold" if strong else "every candidate (>= floor)")
            for label, should, good_if_high in (
                ("person", "pet", True),
                ("person", "person", False),
                ("pet", "person", False),
                ("pet", "pet", True),
            ):
                probs = np.array(seen.get((name, label, should, strong), []))
                verdicts = [
                    f"tau {tau}: {int(((probs >= tau) if good_if_high else (probs < tau)).sum())}"
                    for tau in TAUS
                ]
                kind = "fixed" if label != should else "kept"
                print(f"  {label} detections on {should}-only frames: {len(probs):>4}, "
                      f"{kind} " + ", ".join(verdicts))  # fmt: skip
        mistakes = [(clip, n) for (v, clip), n in where.most_common() if v == name][:5]
        print("  wrong label at the alert threshold, by clip: " + (
            ", ".join(f"{clip} {n}" for clip, n in mistakes) or "none"))  # fmt: skip


if __name__ == "__main__":
    main()

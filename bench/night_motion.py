"""Motion in the dark: day footage re-exposed at calibrated light levels, through the real stage.

Each day clip is rendered once per light level by the sensor model of ``tests/lowlight.py``
(auto-exposure up to its gain ceiling, shot and read noise, gamma, H.264 at a camera's bitrate)
into ``--cache`` and decoded again with OpenCV, as a replay would.  Where the person (or car) is
comes from the *day* frames (``tests/motion_reference.py``), so the dark copies are judged
against what was really there.  Every motion variant runs on the same decoded frames.

Per clip, light level and variant it prints:

* **woken**: visits (labelled person or vehicle ranges) on which a motion box touched the
  object on at least ``WOKEN_FRAMES`` frames: the detector would have looked at it;
* **moving**: share of the frames where the object moves (day reference) with a motion box on it;
* **delay**: median frames from a visit's first frame to its first box on the object;
* **empty**: share of the labelled empty frames (trimmed by 5 at each end) that woke motion.

Run from the repo root (renders take a few minutes the first time):
``nice -n 10 .venv/bin/python bench/night_motion.py [--lux 100 3 1 0.3] [--cache DIR]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.*: the helpers

from camera.motion import MotionConfig, MotionDetector
from camera.types import Box, Frame
from tests.lowlight import exposure, mid_grey_snr, read_frames, write_night_clip
from tests.motion_reference import PersonReference

FOOTAGE = Path("tests/footage")
CLIPS = {
    "one-by-one": ("clips/intel_one-by-one-person-detection.mp4", "person"),
    "car park": ("clips/intel_car-detection.mp4", "vehicle"),
}
LUX = (100.0, 10.0, 3.0, 1.0, 0.5, 0.3, 0.2, 0.1)
WOKEN_FRAMES = 5
TRIM = 5
VARIANTS: dict[str, MotionConfig] = {
    "before": MotionConfig(low_light=False),
    "after": MotionConfig(low_light=True),
}


@dataclass
class Truth:
    """The day clip's reference, frame by frame, and its labels."""

    boxes: list[Box | None] = field(default_factory=list)
    moving: list[bool] = field(default_factory=list)
    visits: list[tuple[int, int]] = field(default_factory=list)
    empty: list[int] = field(default_factory=list)


def truth(path: Path, item: dict, target: str) -> Truth:
    out = Truth()
    reference = PersonReference()
    for image in read_frames(path):
        box, moving = reference.update(image)
        out.boxes.append(box)
        out.moving.append(moving)
    frames = len(out.boxes)
    out.visits = [(lo, hi) for lo, hi in item["labels"][target]]
    out.empty = [
        i
        for lo, hi in item["labels"]["empty"]
        for i in range(lo + TRIM, min(hi - TRIM, frames - 1) + 1)
    ]
    return out


def touches(boxes: tuple[Box, ...], target: Box | None) -> bool:
    return target is not None and any(b.intersection(target) > 0 for b in boxes)


def score(active: list[tuple[Box, ...]], t: Truth) -> dict[str, object]:
    woken, delays, moving_hits, moving_total = 0, [], 0, 0
    for lo, hi in t.visits:
        hits = [
            i for i in range(lo, min(hi, len(active) - 1) + 1) if touches(active[i], t.boxes[i])
        ]
        woken += len(hits) >= WOKEN_FRAMES
        if hits:
            delays.append(hits[0] - lo)
        moving = [i for i in range(lo, min(hi, len(active) - 1) + 1) if t.moving[i]]
        moving_total += len(moving)
        moving_hits += sum(touches(active[i], t.boxes[i]) for i in moving)
    empty = [i for i in t.empty if i < len(active)]
    return {
        "woken": f"{woken}/{len(t.visits)}",
        "moving": moving_hits / moving_total if moving_total else 0.0,
        "delay": float(np.median(delays)) if delays else None,
        "empty": sum(bool(active[i]) for i in empty) / len(empty) if empty else 0.0,
    }


def night_copy(source: Path, lux: float, fps: float, cache: Path) -> Path:
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"{source.stem}_{lux:g}lux.mp4"
    if not path.exists():
        partial = path.with_suffix(".part.mp4")
        write_night_clip(source, partial, lux, fps)
        partial.rename(path)
    return path


def run(path: Path, fps: float, variants: dict[str, MotionConfig]) -> dict[str, list]:
    detectors: dict[str, MotionDetector] = {}
    out: dict[str, list] = {name: [] for name in variants}
    lumas = []
    for index, image in enumerate(read_frames(path)):
        if not detectors:
            size = (image.shape[1], image.shape[0])
            detectors = {name: MotionDetector(c, size) for name, c in variants.items()}
        if index % 50 == 0:
            lumas.append(float(np.median(image)))
        for name, detector in detectors.items():
            out[name].append(detector.update(Frame(image, index / fps, index)).boxes)
    out["_luma"] = lumas
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lux", type=float, nargs="+", default=list(LUX))
    parser.add_argument("--cache", type=Path, default=Path("/tmp/ronda-night"))
    parser.add_argument("--clips", nargs="+", choices=list(CLIPS), default=list(CLIPS))
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    items = {i["path"]: i for i in json.loads((FOOTAGE / "manifest.json").read_text())["items"]}
    rows = []
    print(f"{'clip':11s} {'lux':>5s} {'gain':>5s} {'level':>6s} {'SNR':>5s} {'luma':>5s} ", end="")
    print(f"{'variant':10s} {'woken':>6s} {'moving':>7s} {'delay':>6s} {'empty':>6s}")
    for name in args.clips:
        relative, target = CLIPS[name]
        item = items[relative]
        fps = float(item["fps"])
        t = truth(FOOTAGE / relative, item, target)
        for lux in args.lux:
            path = night_copy(FOOTAGE / relative, lux, fps, args.cache)
            results = run(path, fps, VARIANTS)
            e = exposure(lux)
            luma = float(np.median(results.pop("_luma")))
            for variant, active in results.items():
                s = score(active, t)
                rows.append({"clip": name, "lux": lux, "variant": variant, "luma": luma, **s})
                delay = "-" if s["delay"] is None else f"{s['delay']:.0f}"
                print(
                    f"{name:11s} {lux:5g} {e.gain:5.1f} {e.brightness:6.3f} "
                    f"{mid_grey_snr(lux):5.1f} {luma:5.0f} {variant:10s} {s['woken']:>6s} "
                    f"{s['moving']:7.0%} {delay:>6s} {s['empty']:6.1%}",
                    flush=True,
                )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

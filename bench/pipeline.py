"""End-to-end replay speed and what motion gating saves.

Replays the one-by-one clip (six people walk in and out of a room) through the real pipeline
twice in one process:

* **gated**: Ronda as shipped: motion decides when the detector runs and on which crops;
* **baseline**: the detector on every frame (the whole frame as one crop), same tracker.

Prints frames/s of each, detector calls, crops, events, and the ratios.  Run from the repo root:
``.venv/bin/python bench/pipeline.py [--clip PATH] [--variant NAME]`` (default: the bundled
manifest's most accurate int8 variant, the one a Pi 4 runs, or its most accurate variant when
no int8 one ships).

``--backends`` measures instead what the frame loop costs the Pi's CPU per frame with each
detector backend, on the same frames, the CPU backend as the baseline:

* **cpu**: TFLite on the motion crops (``--variant``);
* **imx500**: the AI Camera, its network's output read from each frame's metadata (the fake
  ``picamera2.devices.imx500`` of tests/fake_picamera2, fed what the CPU found on each frame,
  in the documented tensor layout): decoding it is counted, the sensor's own work is not;
* **hailo**: a Hailo on the same crops (the fake ``picamera2.devices.Hailo`` answering at once
  with outputs recorded in a first pass): crop preparation and decoding are counted, the chip's
  work is not.

CPU time is the process's (every thread: TFLite's workers too) inside ``Pipeline.process`` and
the AI Camera's metadata decoding, not the video decoding that stands in for the camera.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

from camera.app import stage_configs
from camera.config import RondaConfig
from camera.detect import DetectorConfig, load_detector
from camera.detect.manifest import bundled_manifest, read_manifest
from camera.detect.selection import by_accuracy
from camera.motion import RegionPlanner
from camera.pipeline import Pipeline
from camera.sources import open_replay
from camera.types import Box, Region

DEFAULT_CLIP = Path("tests/footage/clips/intel_one-by-one-person-detection.mp4")


def default_variant() -> str:
    """The bundled manifest's most accurate int8 variant, else its most accurate one.

    Derived from the manifest (whatever family and precisions models/ ships), so the bench
    never names a file that is gone.
    """
    specs = read_manifest(bundled_manifest())
    int8 = [s for s in specs if s.precision == "int8"]
    return by_accuracy(int8 or specs)[0].name


class EveryFrame:
    """Baseline region planner: the whole frame, every frame, motion or not."""

    def __init__(self, _config: object, size: tuple[int, int], _input_size: int) -> None:
        self.region = Region(Box(0, 0, size[0], size[1]))

    def plan(self, *_: object, **__: object) -> list[Region]:
        return [self.region]


def replay(clip: Path, variant: str, gated: bool) -> dict[str, float]:
    config = RondaConfig()
    detector = load_detector(DetectorConfig(variant=variant), rungs=1)
    pipeline = Pipeline(
        camera="bench",
        topic_prefix="ronda/bench",
        stages=stage_configs(config),
        detector=detector,
        sinks=[],
        planner_factory=RegionPlanner if gated else EveryFrame,
    )
    source = open_replay(clip)
    pipeline.begin_stream(source.name)
    started = time.perf_counter()
    for frame in source.frames():
        pipeline.process(frame)
    pipeline.end_stream()
    wall = time.perf_counter() - started
    stats = pipeline.stats
    detector.close()
    return {
        "frames": stats.frames,
        "wall_s": wall,
        "fps": stats.frames / wall,
        "detector_calls": stats.detector_calls,
        "crops": stats.detector_crops,
        "detector_ms": stats.detector_ms,
        "person_events": stats.events.get("person", 0),
        "pet_events": stats.events.get("pet", 0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", type=Path, default=DEFAULT_CLIP)
    parser.add_argument("--variant", help="a name from ronda models (default: see above)")
    parser.add_argument("--backends", action="store_true", help="CPU per frame by backend")
    parser.add_argument("--frames", type=int, default=600, help="with --backends: frames used")
    parser.add_argument(
        "--manifest",
        type=Path,
        help="with --backends: compare the CPU's and the AI Camera's events on every clip of "
        "this labelled manifest instead (the AI Camera fed the CPU's detections)",
    )
    args = parser.parse_args()
    args.variant = args.variant or default_variant()
    if not args.clip.exists():
        sys.exit(f"clip {args.clip} not found (run from the repo root)")
    if args.backends:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from bench.backends import compare, equivalence

        if args.manifest is not None:
            equivalence(args.manifest, args.variant)
        else:
            compare(args.clip, args.variant, args.frames)
        return
    gated = replay(args.clip, args.variant, gated=True)
    baseline = replay(args.clip, args.variant, gated=False)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"clip: {args.clip.name}, variant {args.variant}, {gated['frames']} frames")
    print(f"{'':<22}{'gated (Ronda)':>16}{'every frame':>16}{'ratio':>10}")
    for key, label in (
        ("fps", "frames/s"),
        ("wall_s", "wall seconds"),
        ("detector_calls", "detector calls"),
        ("crops", "crops inferred"),
        ("detector_ms", "ms per call"),
        ("person_events", "person events"),
        ("pet_events", "pet events"),
    ):
        g, b = gated[key], baseline[key]
        ratio = f"{g / b:.2f}" if b else "-"
        print(f"{label:<22}{g:>16.1f}{b:>16.1f}{ratio:>10}")
    saved = 1 - gated["detector_calls"] / gated["frames"]
    print(f"motion gating skipped the detector on {saved:.1%} of frames")
    print(f"peak resident memory of this process: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()

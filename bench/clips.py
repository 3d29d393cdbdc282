"""What event clips cost: replay speed with clips against without, pre-roll memory, MB a minute.

1. **Throughput**: the one-by-one clip (six people walk in and out) replayed through the real
   pipeline in this process, alternately without a recorder and with one (software encoding of
   every frame at 10 fps into the pre-roll, six events written as MP4 files, the recorder's
   queue drained before the clock stops). Runs alternate so that load from other processes hits
   both sides alike; the ratio of medians is printed.
2. **Pre-roll memory** at 720p, 10 fps, ``pre_s`` 5 s: the same footage scaled to 1280x720 and
   fed to a recorder alone for 60 s of video with no event (the worst case: the buffer only
   ever fills), then one event to measure **MB per minute** of a 720p clip.

Run from the repo root: ``.venv/bin/python bench/clips.py [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2

from camera.app import stage_configs
from camera.config import RondaConfig
from camera.detect import DetectorConfig, load_detector
from camera.events import EventUpdate
from camera.pipeline import Pipeline
from camera.record.config import ClipsConfig
from camera.record.recorder import Recorder
from camera.sources import open_replay
from camera.store import Database, EventStore, StoreConfig
from camera.types import Frame, Policy

DEFAULT_CLIP = Path("tests/footage/clips/intel_one-by-one-person-detection.mp4")


def replay(clip: Path, with_clips: bool) -> dict[str, float]:
    config = RondaConfig()
    detector = load_detector(DetectorConfig())
    with tempfile.TemporaryDirectory() as state:
        database = Database(Path(state) / "ronda.sqlite3")
        store = EventStore(database, StoreConfig(path=Path(state)))
        recorder = Recorder(ClipsConfig(), store.clips) if with_clips else None
        pipeline = Pipeline(
            camera="bench",
            topic_prefix="ronda/bench",
            stages=stage_configs(config),
            detector=detector,
            sinks=[],
            recorder=recorder,
        )
        source = open_replay(clip)
        started = time.perf_counter()
        pipeline.begin_stream(source.name)
        if recorder is not None:
            recorder.begin_stream(source)
        for frame in source.frames():
            pipeline.process(frame)
        pipeline.end_stream()
        if recorder is not None:
            recorder.close()  # waits for the last clip to be written
        wall = time.perf_counter() - started
        result = {"fps": pipeline.stats.frames / wall, "frames": pipeline.stats.frames}
        if recorder is not None:
            clips = store.clips.all()
            result["clips"] = len(clips)
            result["seconds"] = sum(c.duration_s or 0 for c in clips)
            result["bytes"] = sum(c.size_bytes or 0 for c in clips)
            result["dropped"] = float(recorder.worker.counters.frames_dropped)
        database.close()
    detector.close()
    return result


def frames_720p(clip: Path, seconds: float) -> list[Frame]:
    source = open_replay(clip)
    frames = []
    for frame in source.frames():
        if frame.timestamp >= seconds:
            break
        image = cv2.resize(frame.image, (1280, 720), interpolation=cv2.INTER_LINEAR)
        frames.append(Frame(image=image, timestamp=frame.timestamp, index=frame.index))
    source.close()
    return frames


def preroll_720p(clip: Path) -> dict[str, float]:
    frames = frames_720p(clip, 60.0)
    with tempfile.TemporaryDirectory() as state:
        database = Database(Path(state) / "ronda.sqlite3")
        store = EventStore(database, StoreConfig(path=Path(state)))
        recorder = Recorder(ClipsConfig(pre_s=5.0, fps=10.0), store.clips)
        recorder.begin_stream(open_replay(clip))
        policy = Policy()
        half = len(frames) // 2
        for frame in frames[:half]:  # no event: the pre-roll only fills
            recorder.frame(frame, policy)
        recorder.worker.wait_idle(120)
        peak = recorder.worker.preroll.peak_bytes
        span = recorder.worker.preroll.span_s
        start = frames[half].timestamp
        recorder.clip_for(_event("start", start, start))
        for frame in frames[half:]:
            recorder.frame(frame, policy)
        end = frames[-1].timestamp - 5.0
        recorder.clip_for(_event("end", start, end))
        recorder.close()
        clip_row = store.clips.all()[0]
        queue_peak = recorder.worker.counters.queue_peak
        database.close()
    frame_bytes = 1280 * 720 * 3
    return {
        "preroll_peak_mb": peak / 1e6,
        "preroll_span_s": span,
        "queue_peak_mb": min(queue_peak, ClipsConfig().queue_frames) * frame_bytes / 1e6,
        "mb_per_min": (clip_row.size_bytes or 0) / 1e6 / (clip_row.duration_s or 1) * 60,
        "clip_s": clip_row.duration_s or 0,
    }


def _event(kind: str, start: float, now: float) -> EventUpdate:
    return EventUpdate(
        id="bench-0001", camera="bench", type=kind, label="person", subclass="person",
        score=0.9, box=[0, 0, 1, 1], frame_time=now, start_time=start,
        end_time=now if kind == "end" else None, thumbnail_topic=None, has_thumbnail=False,
        model_precision="int8", motion_only=False, source="bench", sequence=1,
        camera_name="bench", start_local="2024-01-05T21:04:03+01:00",
        end_local="2024-01-05T21:04:09+01:00" if kind == "end" else None,
        label_idle_s=None, previous_label=None,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", type=Path, default=DEFAULT_CLIP)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if not args.clip.exists():
        sys.exit(f"clip {args.clip} not found (run from the repo root)")
    without, with_ = [], []
    for _ in range(args.repeats):
        without.append(replay(args.clip, with_clips=False))
        with_.append(replay(args.clip, with_clips=True))
    fps_without = statistics.median(r["fps"] for r in without)
    fps_with = statistics.median(r["fps"] for r in with_)
    last = with_[-1]
    print(f"clip: {args.clip.name}, {last['frames']:.0f} frames, {args.repeats} runs each")
    for name, runs, median in (("without", without, fps_without), ("with", with_, fps_with)):
        each = ", ".join(f"{r['fps']:.1f}" for r in runs)
        print(f"replay {name + ' clips:':<14} {median:6.1f} frames/s (median; runs {each})")
    print(f"ratio with/without:   {fps_with / fps_without:.2f} (target >= 0.70)")
    per_minute = last["bytes"] / 1e6 / last["seconds"] * 60
    print(
        f"clips written: {last['clips']:.0f}, {last['seconds']:.1f} s, {last['bytes'] / 1e6:.2f}"
        f" MB = {per_minute:.2f} MB/min at 768x432; clip frames dropped: {last['dropped']:.0f}"
    )
    memory = preroll_720p(args.clip)
    print(
        f"720p 10 fps pre_s 5: pre-roll peak {memory['preroll_peak_mb']:.2f} MB (spanning "
        f"{memory['preroll_span_s']:.1f} s; target <= 32 MB), encoder queue at most "
        f"{memory['queue_peak_mb']:.1f} MB of raw frames"
    )
    print(f"720p clip: {memory['clip_s']:.1f} s, {memory['mb_per_min']:.2f} MB/min")


if __name__ == "__main__":
    main()

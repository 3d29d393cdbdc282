"""Never late: a live source hands a slow pipeline its newest frame, and the governor notices.

Real parts: an MJPEG stream served over loopback HTTP and read by OpenCV's FFmpeg backend (which
buffers a slow reader's frames without limit: the bug this guards against), a real clip replayed
in real time, the real pipeline and governor.  The only stand-in is a detector that is slow on
purpose: the machine under test is fast, the device this models is not.
"""

from __future__ import annotations

import http.server
import logging
import socketserver
import threading
import time
from collections.abc import Iterator, Sequence

import cv2
import numpy as np
import pytest

from camera.app import RunOptions, Runtime
from camera.config import parse_config
from camera.detect.base import CropDetector
from camera.pipeline import FrameOutcome
from camera.sources import SourceConfig, open_replay, open_source
from camera.sources.latest import LatestFrames
from camera.types import Detection, Frame, ModelVariant, Region
from tests.conftest import footage

STREAM_FPS = 25.0
SLOW_S = 0.2
"""What one frame costs the slow consumer: five times the stream's frame period."""
BITS = 12


def stamp(index: int) -> np.ndarray:
    """A frame whose index survives JPEG: one 16x16 black or white block per bit."""
    image = np.zeros((64, 256, 3), np.uint8)
    for bit in range(BITS):
        if index >> bit & 1:
            image[16:48, bit * 20 : bit * 20 + 16] = 255
    return image


def read_stamp(image: np.ndarray) -> int:
    return sum(1 << bit for bit in range(BITS) if image[32, bit * 20 + 8, 0] > 128)


class MjpegServer:
    """An HTTP multipart-JPEG camera on loopback; remembers when it sent each frame."""

    def __init__(self, frames: int) -> None:
        self.sent: dict[int, float] = {}
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                started = time.monotonic()
                try:
                    for index in range(frames):
                        jpeg = cv2.imencode(".jpg", stamp(index))[1].tobytes()
                        head = f"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}"
                        self.wfile.write(head.encode() + b"\r\n\r\n" + jpeg + b"\r\n")
                        server.sent[index] = time.monotonic()
                        delay = started + (index + 1) / STREAM_FPS - time.monotonic()
                        if delay > 0:
                            time.sleep(delay)  # the camera's frame clock, not synchronisation
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *_: object) -> None:
                pass

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/stream.mjpg"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def stream() -> Iterator[MjpegServer]:
    server = MjpegServer(frames=int(STREAM_FPS * 30))
    yield server
    server.close()


def consume_slowly(frames: Iterator[Frame], count: int) -> list[tuple[Frame, float]]:
    """Take ``count`` frames, spending ``SLOW_S`` on each; returns (frame, when it was taken)."""
    taken = []
    for frame in frames:
        taken.append((frame, time.monotonic()))
        if len(taken) == count:
            break
        time.sleep(SLOW_S)  # the slow pipeline's work, not a wait for anything
    return taken


def test_opencv_stream_hands_a_slow_reader_the_newest_frame(stream: MjpegServer) -> None:
    source = open_source(SourceConfig(kind="opencv", uri=stream.url))
    frames = source.frames()
    taken = consume_slowly(frames, 15)  # 3 s of a 25 fps stream
    frames.close()
    source.close()
    ages = [now - stream.sent[read_stamp(frame.image)] for frame, now in taken]
    indices = [read_stamp(frame.image) for frame, _ in taken]
    # Plain cv2 reads would return 0, 1, 2, ... (FFmpeg queues the rest): 3 s late by the end.
    assert indices[-1] > 40, indices
    assert max(ages[3:]) < SLOW_S + 0.25, ages
    assert ages[-1] < SLOW_S + 0.25 and source.stale_dropped > 40
    assert source.full_fps == pytest.approx(STREAM_FPS, rel=0.25)
    assert all(frame.captured is not None and frame.captured <= now for frame, now in taken)


def test_realtime_replay_drops_frames_the_loop_was_too_busy_for() -> None:
    clip = footage("clips/intel_one-by-one-person-detection.mp4")  # 10 fps
    source = open_replay(clip, realtime=True)
    frames = source.frames()
    taken = consume_slowly(frames, 12)
    frames.close()
    indices = [frame.index for frame, _ in taken]
    assert indices == sorted(set(indices)), indices
    # The loop takes a frame every 0.2 s of a 10 fps clip: about every other one, never a queue.
    assert indices[-1] >= 2 * (len(indices) - 1) - 2, indices
    assert source.stale_dropped >= len(taken) - 3
    for frame, now in taken:
        assert frame.timestamp == pytest.approx(frame.index / 10.0)  # still the video's clock
        assert now - frame.captured < SLOW_S + 0.15  # never older than one busy frame + period


def test_unpaced_replay_keeps_every_frame() -> None:
    source = open_replay(footage("clips/intel_one-by-one-person-detection.mp4"))
    frames = list(zip(range(30), source.frames(), strict=False))
    assert [frame.index for _, frame in frames] == list(range(30))
    assert all(frame.captured is None for _, frame in frames)
    assert (source.full_fps, source.stale_dropped) == (None, 0)


def test_a_producer_error_reaches_the_consumer() -> None:
    def broken() -> Iterator[Frame]:
        yield Frame(np.zeros((2, 2, 3), np.uint8), 0.0, 0)
        raise RuntimeError("camera unplugged")

    latest = LatestFrames(broken, "broken", threading.Event())
    with pytest.raises(RuntimeError, match="camera unplugged"):
        for _ in latest.frames():
            pass


class SlowDetector(CropDetector):
    """Finds nothing and takes ``seconds`` per call: a detector on a far slower CPU."""

    precision = "int8"
    input_size = 320
    backend = "slow-fake"
    variant = "slow-fake-int8"
    ladder = (ModelVariant(variant, "int8", 320),)

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.calls = 0

    def detect(self, image: np.ndarray, regions: Sequence[Region]) -> list[Detection]:
        self.calls += 1
        time.sleep(self.seconds)  # inference time, not synchronisation
        return []

    def set_variant(self, name: str) -> None:
        pass

    def close(self) -> None:
        pass


@pytest.mark.slow
def test_slow_loop_keeps_frame_age_bounded_and_the_governor_lowers_the_rate(
    tmp_path, caplog: pytest.LogCaptureFixture
) -> None:
    """A realtime replay where each inference takes 0.25 s (a 10 fps camera needs <= 0.1 s):
    frames stay fresh once people walk in (6 s), and the load level lowers the rate, saying so."""
    config = parse_config(
        {
            "store": {"path": str(tmp_path / "state")},
            "governor": {
                "interval_s": 1.0,
                "dwell_s": 5.0,
                "sensors": {
                    "sysfs_root": str(tmp_path / "no-sys"),
                    "vcgencmd": str(tmp_path / "no-vcgencmd"),
                    "battery": {"source": "off"},
                },
            },
        }
    )
    stop = threading.Event()
    seen: list[tuple[float, str, float | None, float]] = []  # (video s, level, fps, age s)

    def hook(outcome: FrameOutcome) -> None:
        frame = outcome.frame
        if outcome.processed and frame.captured is not None:
            age = time.monotonic() - frame.captured  # after processing: an upper bound
            seen.append((frame.timestamp, outcome.policy.level, outcome.policy.fps, age))
        if frame.timestamp >= 16.0:
            stop.set()

    caplog.set_level(logging.WARNING, logger="camera.governor")
    runtime = Runtime(config, RunOptions(use_mqtt=False, hooks=[hook]))
    slow = SlowDetector(0.25)
    runtime.pipeline.detector = slow
    source = open_replay(footage("clips/intel_one-by-one-person-detection.mp4"), realtime=True)
    try:
        runtime.run_source(source, stop)
    finally:
        stats = runtime.pipeline.stats
        runtime.close()
    assert slow.calls > 5 and stats.stale_dropped > 0
    loaded = [age for t, _, _, age in seen if t >= 8.0]
    assert len(loaded) > 5
    assert np.percentile(loaded, 95) < 0.25 + 0.1 + 0.25, loaded
    half = len(loaded) // 2
    assert np.median(loaded[half:]) < np.median(loaded[:half]) + 0.1, loaded  # no growth
    assert stats.age_percentiles_ms() is not None
    assert {"load-busy", "load-overloaded"} & {level for _, level, _, _ in seen}
    assert min(fps for _, _, fps, _ in seen if fps is not None) <= 5.0
    assert any("loop load" in r.getMessage() for r in caplog.records)

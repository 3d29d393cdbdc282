"""sd_notify over a real AF_UNIX datagram socket, and the ServiceMonitor frame hook driving it.

The watchdog test runs the real Runtime (detector, pipeline, broker) on a source that holds its
first frame back, delivers real footage at a camera's pace, then stalls the way a wedged camera
does: READY must wait for the first frame, WATCHDOG pings must flow with the frames and stop
with them, so that systemd's watchdog would fire.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from camera.app import RunOptions, Runtime
from camera.config import parse_config
from camera.service.monitor import ServiceMonitor
from camera.service.notify import Notifier, watchdog_interval
from camera.sources import open_replay
from camera.types import Frame
from tests.broker import Mosquitto, Subscriber, wait_until
from tests.conftest import CANARY_PASSWORD, footage
from tests.test_service_support import NotifyListener

CLIP = "clips/intel_one-by-one-person-detection.mp4"


@pytest.fixture(params=[False, True], ids=["path-socket", "abstract-socket"])
def listener(request: pytest.FixtureRequest) -> Iterator[NotifyListener]:
    server = NotifyListener(abstract=request.param)
    yield server
    server.close()


def test_notifier_delivers_one_datagram_of_fields(listener: NotifyListener) -> None:
    notifier = Notifier.from_environment(listener.env())
    assert notifier.enabled
    assert notifier.send("READY=1", "STATUS=9.5 fps")
    message = listener.wait_for("READY", "1", timeout=5)
    assert message.fields == {"READY": "1", "STATUS": "9.5 fps"}
    notifier.close()


def test_without_notify_socket_everything_is_a_silent_no_op(caplog) -> None:
    notifier = Notifier.from_environment({})
    assert not notifier.enabled and not notifier.send("READY=1")
    monitor = ServiceMonitor.from_environment({})
    monitor.status("loading")
    monitor.stopping()
    assert not monitor.ready and caplog.records == []


def test_a_vanished_socket_is_logged_once_and_never_raised(tmp_path: Path, caplog) -> None:
    notifier = Notifier.from_environment({"NOTIFY_SOCKET": str(tmp_path / "gone.sock")})
    with caplog.at_level(logging.WARNING):
        assert not notifier.send("WATCHDOG=1")
        assert not notifier.send("WATCHDOG=1")
    assert len([r for r in caplog.records if "cannot notify systemd" in r.message]) == 1


def test_watchdog_interval_is_for_this_process_only() -> None:
    assert watchdog_interval({}) is None
    assert watchdog_interval({"WATCHDOG_USEC": "30000000"}) == 30.0
    assert watchdog_interval({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())})
    assert watchdog_interval({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}) is None
    assert watchdog_interval({"WATCHDOG_USEC": "soon"}) is None


class StallingSource:
    """Holds every frame back until ``gate`` opens, delivers ``images`` at ``fps`` like a camera,
    then blocks forever (until closed): the camera stalled, the process is alive."""

    name = "stalling-camera"
    live = True

    def __init__(self, images: list[np.ndarray], fps: float) -> None:
        self.images = images
        self.interval = 1.0 / fps
        self.gate = threading.Event()
        self.stalled = threading.Event()
        self.stalled_at = 0.0
        self._closed = threading.Event()

    def frames(self) -> Iterator[Frame]:
        while not self.gate.wait(0.05):
            if self._closed.is_set():
                return
        for index, image in enumerate(self.images):
            if self._closed.wait(self.interval):  # the sensor's frame interval
                return
            yield Frame(image=image, timestamp=time.time(), index=index)
        self.stalled_at = time.monotonic()
        self.stalled.set()
        self._closed.wait()

    def set_fps(self, fps: float | None) -> None:
        pass

    def close(self) -> None:
        self._closed.set()


def test_ready_waits_for_the_first_frame_and_the_watchdog_stops_with_the_frames(
    tmp_path: Path, broker: Mosquitto, subscriber: Subscriber, listener: NotifyListener
) -> None:
    watchdog_s = 1.0
    replay = open_replay(footage(CLIP))
    images = [frame.image for frame, _ in zip(replay.frames(), range(40), strict=False)]
    replay.close()
    source = StallingSource(images, fps=10)
    config = parse_config(
        {
            "camera": {"name": "watchdog"},
            "store": {"path": str(tmp_path / "state")},
            "mqtt": {"host": broker.host, "port": broker.port, "password": CANARY_PASSWORD},
        }
    )
    monitor = ServiceMonitor.from_environment(listener.env(watchdog_s=watchdog_s))
    runtime = Runtime(config, RunOptions(hooks=[monitor]))  # the real detector is loaded here
    monitor.attach(runtime.pipeline)
    stop = threading.Event()
    loop = threading.Thread(target=runtime.run_source, args=(source, stop))
    loop.start()
    try:
        assert subscriber.wait_for(lambda s: bool(s.on("watchdog/availability")), timeout=10)
        # Model loaded, broker connected, source open: still no frame, so neither READY nor a ping.
        assert not wait_until(lambda: bool(listener.messages), timeout=0.5)
        source.gate.set()
        ready = listener.wait_for("READY", "1", timeout=10)
        assert "fps, governor normal" in ready.fields["STATUS"]
        assert source.stalled.wait(timeout=30)
        pings = [m.at for m in listener.with_field("WATCHDOG", "1")]
        gaps = [later - earlier for earlier, later in itertools.pairwise(pings)]
        # 40 frames at 10 fps: a ping at most every watchdog/2, never a gap systemd would punish.
        # Gaps are measured where the datagrams are received, so a loaded machine adds jitter
        # to each side of a gap: allow 0.1 s of it (a ping per frame would give 0.1 s gaps).
        assert len(pings) >= 6
        assert min(gaps) >= watchdog_s / 2 - 0.1 and max(gaps) < watchdog_s
        # Stalled: the pings stop, so systemd's watchdog (no ping for WATCHDOG_USEC) fires.
        assert wait_until(lambda: time.monotonic() - last_ping(listener) > 2 * watchdog_s, 5)
        assert last_ping(listener) <= source.stalled_at + 0.1
        assert all("STOPPING" not in m.fields for m in listener.messages)
    finally:
        stop.set()
        source.close()
        loop.join(timeout=10)
        runtime.close()


def last_ping(listener: NotifyListener) -> float:
    return max(m.at for m in listener.with_field("WATCHDOG", "1"))

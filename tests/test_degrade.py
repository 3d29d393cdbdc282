"""Degrade, don't die: a disk that fills during a replay, a database with overwritten pages, a
second stop signal during the drain.  Real mosquitto, real detector, real footage (the demo
scene: a person, then a cat)."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from camera.app import RunOptions, Runtime, replay_files
from camera.config import RondaConfig, parse_config
from camera.pipeline.loop import FrameOutcome
from camera.sources import open_replay
from tests.bad_input_cases import Workspace, _overwrite_pages
from tests.broker import Mosquitto, Subscriber, free_port, wait_until
from tests.cli_helpers import REPO, write_config
from tests.conftest import CANARY_PASSWORD
from tests.test_delivery_runtime import Recorder

pytestmark = pytest.mark.slow


def config_for(state: Path, broker: Mosquitto) -> RondaConfig:
    return parse_config(
        {
            "camera": {"name": "test"},
            "store": {"path": str(state)},
            "mqtt": {
                "host": broker.host,
                "port": broker.port,
                "password": CANARY_PASSWORD,
                "reconnect_min_s": 0.1,
                "reconnect_max_s": 0.5,
                "drain_timeout_s": 30,
                "discovery": {"enabled": False},
            },
            "governor": {"enabled": False},
        }
    )


def _tmpfs(tmp_path: Path, options: str) -> Iterator[Path]:
    """A tmpfs of its own, so filling it harms nothing else."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root and mount(8)")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], capture_output=True, check=False)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """1 MB: a few thumbnails and the database fill it."""
    yield from _tmpfs(tmp_path, "size=1m")


@pytest.fixture
def few_inodes(tmp_path: Path) -> Iterator[Path]:
    """Room enough, but inodes for the database and its journals only: no thumbnail file."""
    yield from _tmpfs(tmp_path, "size=8m,nr_inodes=6")


class DiskFiller:
    """Fills the disk to the last byte and keeps it full (SQLite frees a little by
    checkpointing: that room is taken again at every frame), until ``release``."""

    def __init__(self, mount: Path) -> None:
        self.path = mount / "filler"
        self.full = False

    def fill(self) -> None:
        self.full = True
        with contextlib.suppress(OSError), open(self.path, "ab") as filler:
            while True:
                filler.write(b"\0" * 4096)
                filler.flush()

    def release(self) -> None:
        self.full = False
        self.path.unlink(missing_ok=True)


def test_a_disk_that_fills_during_a_replay_loses_no_alert(
    small_disk: Path,
    broker: Mosquitto,
    subscriber: Subscriber,
    demo_scene: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="camera")
    recorder = Recorder()
    filler = DiskFiller(small_disk)
    held_while_full: list[int] = []

    def disk(outcome: FrameOutcome) -> None:
        """Full from the first event update on; room again once two more were made on it."""
        produced = len(recorder.updates)
        if produced >= 1 and not filler.full and not held_while_full:
            filler.fill()
        if filler.full:
            filler.fill()  # take back what a checkpoint freed
            held_while_full.append(runtime.outbox.held())
            if produced >= 3 and max(held_while_full) > 0:
                filler.release()

    runtime = Runtime(
        config_for(small_disk / "state", broker),
        RunOptions(extra_sinks=[recorder], hooks=[disk]),
    )
    try:
        replay_files(runtime, [open_replay(demo_scene)], stop=threading.Event())
    finally:
        left = runtime.close()

    assert max(held_while_full) > 0, "the disk never refused an alert: the test proves nothing"
    assert not filler.full, "the scene ended before space returned"
    assert left == 0
    produced = recorder.keys()
    assert len(produced) >= 4
    assert subscriber.wait_for(lambda s: s.unique_event_keys() == produced, timeout=30)
    log = caplog.text
    assert log.count("holding them in memory") == 1  # logged once, however long it lasts
    assert log.count("the disk has room again") == 1
    assert log.count("cannot save thumbnails") <= 1
    assert "Traceback" not in log


def test_out_of_inodes_the_alerts_go_with_their_thumbnails(
    few_inodes: Path,
    broker: Mosquitto,
    subscriber: Subscriber,
    demo_scene: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="camera")
    recorder = Recorder()
    runtime = Runtime(config_for(few_inodes / "state", broker), RunOptions(extra_sinks=[recorder]))
    try:
        replay_files(runtime, [open_replay(demo_scene)], stop=threading.Event())
    finally:
        left = runtime.close()
    assert left == 0
    produced = recorder.keys()
    assert subscriber.wait_for(lambda s: s.unique_event_keys() == produced, timeout=30)
    sent = {t: set(images) for t, images in recorder.thumbnails.items()}
    assert sent, "the scene makes thumbnails"
    assert subscriber.wait_for(
        lambda s: all({m.payload for m in s.on(t)} == i for t, i in sent.items())
    )
    assert caplog.text.count("cannot save thumbnails") == 1  # logged once, not per event
    assert "Traceback" not in caplog.text


def test_a_damaged_database_is_moved_aside_and_delivery_goes_on(
    tmp_path: Path, broker: Mosquitto, subscriber: Subscriber, demo_scene: Path
) -> None:
    workspace = Workspace(tmp_path)
    _overwrite_pages(workspace)  # 300 queued alerts, every fifth page after the third garbage
    config = write_config(
        tmp_path,
        mqtt={"host": broker.host, "port": broker.port, "discovery": {"enabled": False}},
        governor={"enabled": False},
    )
    done = subprocess.run(
        [sys.executable, "-m", "camera", "replay", str(demo_scene), "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    said = [line for line in done.stderr.splitlines() if "was damaged" in line]
    assert len(said) == 1, done.stderr
    assert "moved it to ronda.sqlite3.damaged-" in said[0]
    carried = int(said[0].split("carried over ")[1].split()[0])
    assert 100 <= carried < 300  # what could be read, not nothing and not everything
    assert list(workspace.state.glob("ronda.sqlite3.damaged-*"))
    # The carried-over alerts and the new ones all reach the subscriber.
    assert subscriber.wait_for(lambda s: len(s.on("/events")) >= 4, timeout=30)
    assert subscriber.wait_for(lambda s: len(_carried_topics(s)) == carried), len(
        _carried_topics(subscriber)
    )


def _carried_topics(subscriber: Subscriber) -> set[str]:
    """The rows written by ``_overwrite_pages`` go to ``ronda/test/events/<n>``."""
    prefix = "ronda/test/events/"
    return {
        m.topic
        for m in subscriber.messages
        if m.topic.startswith(prefix) and m.topic.count("/") == 3
    }


def _replay_until_draining(tmp_path: Path, demo_scene: Path) -> subprocess.Popen[str]:
    """A replay whose broker does not exist: it queues the scene's alerts and waits for it."""
    config = write_config(
        tmp_path,
        mqtt={"port": free_port(), "drain_timeout_s": 120, "reconnect_max_s": 1.0},
        governor={"enabled": False},
    )
    return subprocess.Popen(
        [sys.executable, "-m", "camera", "replay", str(demo_scene), "--config", str(config)],
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )


def test_a_second_signal_stops_the_drain_at_once(tmp_path: Path, demo_scene: Path) -> None:
    process = _replay_until_draining(tmp_path, demo_scene)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(process.stderr.readline, "")))
    reader.start()
    try:
        assert wait_until(lambda: any("waiting up to 120 s" in x for x in lines), 120), lines
        process.send_signal(signal.SIGTERM)  # the first one: the drain goes on
        assert not wait_until(lambda: process.poll() is not None, 1.0)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
        took = time.monotonic() - started
    finally:
        process.kill()
        process.wait()
        reader.join()
        out = process.stdout.read()
        process.stdout.close()
        process.stderr.close()
    assert process.returncode == 3, lines
    assert took < 5, f"took {took:.1f} s to stop after the second signal"
    assert any("still queued" in line for line in lines)
    assert "Traceback" not in "".join(lines) + out

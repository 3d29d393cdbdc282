"""Ronda under a real systemd: a Debian bookworm booted in ``systemd-nspawn`` (tests/nspawn.py),
Ronda installed by its own installer, a looping clip as the camera, the broker a real mosquitto
on the host's loopback (the container shares the host's network).

One boot plays the whole story once (module fixture); each test checks one part of it:
READY, the hardened unit's exposure score, the watchdog killing a stopped Ronda and systemd
restarting it, the event that was open at the kill being ended by the next start (crash
recovery), a clean stop, and a journal without errors.  56 s with the root cached on a 2-core
machine at load 2 (up to 165 s at load 19); building the root adds 37 s at load 2 (220 s at
load 14), once per change of tests/container/ or the dependencies (tests/nspawn.py).
"""

from __future__ import annotations

import logging
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from tests import nspawn
from tests.arm64.compare import cut
from tests.broker import Mosquitto, Subscriber, free_port, wait_until
from tests.cli_helpers import REPO
from tests.conftest import footage
from tests.test_service_unit import MAX_EXPOSURE, exposure

# A cold cache builds the root first (minutes), inside the first test's setup.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
log = logging.getLogger(__name__)

CLIP = "clips/intel_one-by-one-person-detection.mp4"  # a person walks in at 6 s, stays 14 s
EMPTY_FRAMES = 50  # frames 0-59 of CLIP are an empty scene (tests/footage/manifest.json)
CAMERA = "nspawn"
PREFIX = f"ronda/{CAMERA}"
VARIANT = "picodet-s320-float32"  # pinned: no timing of every variant at the first start
DROP_IN = """\
[Service]
# The test's clock, not the product's: a 10 s watchdog instead of 30 s and a 1 s restart delay
# keep the watchdog story short; systemd's behaviour is the same.
WatchdogSec=10
RestartSec=1
"""


@dataclass
class Story:
    """What happened, gathered once; the tests read it."""

    machine: nspawn.Machine
    subscriber: Subscriber
    broker: Mosquitto
    install: subprocess.CompletedProcess[str] | None = None
    ready_s: float = 0.0
    first: dict[str, str] = field(default_factory=dict)
    open_event: dict = field(default_factory=dict)
    watchdog_s: float = 0.0
    after_restart: dict[str, str] = field(default_factory=dict)
    stop_s: float = 0.0
    stopped: dict[str, str] = field(default_factory=dict)
    exposure_output: str = ""
    journal: str = ""
    """ronda.service's journal after the stop."""
    failure: str = ""
    """The first step that went wrong (later steps were not played)."""


def empty_clip(path: Path) -> Path:
    """The first seconds of CLIP, before anyone walks in: a camera that sees nobody."""
    assert cut(footage(CLIP), path, EMPTY_FRAMES) == EMPTY_FRAMES
    return path


def config(broker: Mosquitto, web_port: int, clip: str) -> str:
    return yaml.safe_dump(
        {
            "camera": {"name": CAMERA},
            "source": {"kind": "file", "uri": clip, "loop": True},
            "detector": {"variant": VARIANT},
            "mqtt": {"host": broker.host, "port": broker.port},
            "web": {"host": "127.0.0.1", "port": web_port},
        }
    )


def main_pid(machine: nspawn.Machine) -> int:
    return int(machine.show("ronda", "MainPID")["MainPID"])


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    reason = nspawn.cannot_boot_reason()
    if reason:
        pytest.skip(reason)
    work = tmp_path_factory.mktemp("nspawn")
    started = time.monotonic()
    root = nspawn.debian_root("amd64")
    log.info("container root %s ready after %.0f s", root, time.monotonic() - started)
    clips = work / "clips"
    clips.mkdir()
    (clips / "person.mp4").write_bytes(footage(CLIP).read_bytes())
    empty_clip(clips / "empty.mp4")
    broker = Mosquitto(work)
    broker.start()
    subscriber = Subscriber(broker.host, broker.port, topic="ronda/#").start()
    machine = nspawn.Machine(root, work / "nspawn.log", {REPO: "/src", clips: "/footage"})
    story = Story(machine, subscriber, broker)
    try:
        machine.boot()
        play(story, web_port=free_port())
        yield story
    finally:
        machine.shutdown()
        subscriber.stop()
        broker.stop()
        log.info("container story took %.0f s in all", time.monotonic() - started)


def play(story: Story, web_port: int) -> None:
    machine = story.machine
    story.install = machine.run(
        [
            "python3", "-m", "camera.service", "install", "--no-start",
            "--pip-arg=--no-index", f"--pip-arg=--find-links={nspawn.WHEELS}",
        ],
        cwd="/src",
        timeout=300,
        check=False,
    )  # fmt: skip
    if story.install.returncode != 0:
        story.failure = "install"
        return
    machine.write("/etc/ronda/ronda.yaml", config(story.broker, web_port, "/footage/person.mp4"))
    machine.write("/etc/systemd/system/ronda.service.d/test-clock.conf", DROP_IN)
    machine.run(["systemctl", "daemon-reload"])
    story.exposure_output = machine.run(
        ["systemd-analyze", "security", "--no-pager", "ronda.service"], check=False
    ).stdout

    began = time.monotonic()
    machine.run(["systemctl", "start", "ronda"], timeout=150, check=False)  # returns at READY
    story.ready_s = time.monotonic() - began
    story.first = machine.show("ronda", "ActiveState", "SubState", "MainPID", "NRestarts")
    if story.first.get("ActiveState") != "active":
        story.failure = "start"
        return

    subscriber = story.subscriber
    if not wait_until(lambda: bool(starts(subscriber)), timeout=60):
        story.failure = "no event started"
        return
    story.open_event = starts(subscriber)[0]
    # Frozen with the person in view: no more frames, no more pings.  While it is stopped, the
    # camera is pointed at an empty scene, so whatever the next start publishes about the
    # person is the reset, not a new sighting.
    machine.run(["systemctl", "kill", "--kill-who=main", "--signal=SIGSTOP", "ronda"])
    frozen = time.monotonic()
    machine.write("/etc/ronda/ronda.yaml", config(story.broker, web_port, "/footage/empty.mp4"))
    old_pid = int(story.first["MainPID"])

    def restarted() -> bool:
        shown = machine.show("ronda", "ActiveState", "MainPID", "NRestarts")
        return shown["ActiveState"] == "active" and int(shown["MainPID"]) not in (0, old_pid)

    if not wait_until(restarted, timeout=120, interval=0.2):
        story.failure = "no restart after the watchdog"
        return
    story.watchdog_s = time.monotonic() - frozen
    story.after_restart = machine.show("ronda", "ActiveState", "MainPID", "NRestarts")
    # Let the new process get past its start-up (recovery, the first frames) before stopping it.
    wait_until(lambda: ended_at_restart(subscriber, story.open_event["id"]), timeout=15)

    began = time.monotonic()
    machine.run(["systemctl", "stop", "ronda"], timeout=60, check=False)
    story.stop_s = time.monotonic() - began
    story.stopped = machine.show("ronda", "ActiveState", "Result", "ExecMainCode", "ExecMainStatus")
    story.journal = machine.journal("ronda")


def starts(subscriber: Subscriber) -> list[dict]:
    return [e for e in subscriber.events() if e["type"] == "start"]


def ended_at_restart(subscriber: Subscriber, event_id: str) -> list[dict]:
    return [
        e
        for e in subscriber.events()
        if e["type"] == "end" and e["id"] == event_id and e.get("end_reason") == "restart"
    ]


def played(story: Story, step: str) -> None:
    """Fail with the story's first failure when it did not get as far as ``step``."""
    if story.failure:
        install = story.install
        detail = f"{install.stdout[-2000:]}{install.stderr[-2000:]}" if install else ""
        pytest.fail(f"the story stopped at {story.failure!r} before {step}: {detail}")


# -- the tests -----------------------------------------------------------------------------------
def test_the_installer_installs_and_the_service_says_ready(story: Story) -> None:
    assert story.install is not None and story.install.returncode == 0, story.install
    assert story.first.get("ActiveState") == "active", story.machine.journal("ronda")[-3000:]
    assert story.first["SubState"] == "running" and story.first["NRestarts"] == "0"
    owner = story.machine.run(["stat", "-c", "%U:%G %a", "/etc/ronda/ronda.yaml"]).stdout
    assert owner.strip() == "root:ronda 640"
    assert "video" in story.machine.run(["id", "-nG", "ronda"]).stdout.split()
    log.info("READY %.1f s after systemctl start", story.ready_s)


def test_the_installed_unit_scores_within_the_exposure_budget(story: Story) -> None:
    """Scored by the running systemd, which sees the installed unit and the user it runs as."""
    score = exposure(story.exposure_output)
    assert score <= MAX_EXPOSURE, story.exposure_output
    log.info("systemd-analyze security ronda.service: %.1f", score)


def test_the_watchdog_kills_a_frozen_ronda_and_systemd_restarts_it(story: Story) -> None:
    played(story, "the watchdog")
    assert int(story.after_restart["NRestarts"]) == 1, story.after_restart
    assert "Watchdog timeout" in story.machine.journal("ronda")
    # 10 s of watchdog (the drop-in), the kill, 1 s RestartSec, the new start to READY.
    assert story.watchdog_s < 60, story.watchdog_s
    log.info("restarted and READY %.1f s after SIGSTOP", story.watchdog_s)


def test_a_clean_stop_after_the_restart_exits_successfully(story: Story) -> None:
    played(story, "the stop")
    assert story.stopped["ActiveState"] == "inactive", story.stopped
    assert story.stopped["Result"] == "success", story.stopped
    assert story.stopped["ExecMainStatus"] in ("0", "3"), story.stopped  # 3: alerts queued
    assert story.stop_s < 30, story.stop_s  # TimeoutStopSec
    log.info("stopped %.2f s after systemctl stop", story.stop_s)


def test_the_service_logs_no_traceback_and_no_error(story: Story) -> None:
    """Under the sandbox (system call filter, no capabilities, read-only system) nothing fails:
    a denied call would surface as an error or a traceback in the journal."""
    played(story, "the journal")
    assert "Traceback" not in story.journal, story.journal
    errors = [line for line in story.journal.splitlines() if " ERROR " in line]
    assert not errors, errors


def test_the_event_open_at_the_watchdog_kill_ends_at_the_next_start(story: Story) -> None:
    """Crash recovery (issue 22): the new process ends what the killed one left open, through
    the broker like any update, and resets the retained person state."""
    played(story, "crash recovery")
    event_id = story.open_event["id"]
    ends = ended_at_restart(story.subscriber, event_id)
    assert len(ends) == 1, [e for e in story.subscriber.events() if e["id"] == event_id]
    late = Subscriber(story.broker.host, story.broker.port, topic=f"{PREFIX}/person").start()
    try:
        assert wait_until(lambda: bool(late.on("/person")), timeout=5)
        person = late.on("/person")[-1]
    finally:
        late.stop()
    assert person.retain and person.payload == b"OFF", person

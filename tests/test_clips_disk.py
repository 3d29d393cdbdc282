"""Clips on disk: a crash mid-clip leaves the store pointing only at playable files, and the
disk bound deletes the oldest clips (logged and counted)."""

from __future__ import annotations

import logging
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from camera.record.budget import ClipBudget
from camera.record.config import ClipsConfig
from camera.store import Database
from camera.store.clips import ClipStore
from tests.broker import Mosquitto, Subscriber, wait_until
from tests.cli_helpers import REPO, ronda, write_config
from tests.clip_helpers import decode, moov_before_mdat
from tests.conftest import footage


def growing_part(clips: Path, size: int) -> bool:
    for path in clips.glob("*.part.ts"):
        try:
            if path.stat().st_size > size:
                return True
        except FileNotFoundError:
            pass
    return False


@pytest.mark.slow
def test_sigkill_mid_clip_then_restart_points_only_to_playable_files(tmp_path: Path) -> None:
    config = write_config(tmp_path, mqtt={"enabled": False})
    state = tmp_path / "state"
    process = subprocess.Popen(
        [sys.executable, "-m", "camera", "replay", "--config", str(config),
         str(footage("clips/intel_one-by-one-person-detection.mp4"))],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert wait_until(lambda: growing_part(state / "clips", 300_000), timeout=180)
    finally:
        process.kill()
        process.wait()
    with sqlite3.connect(state / "ronda.sqlite3") as db:
        interrupted = [r[0] for r in db.execute("SELECT file FROM clips WHERE state='recording'")]
    assert interrupted, "the kill did not hit a recording"

    restart = ronda("demo", "--config", config)  # any start of the runtime recovers
    assert restart.returncode == 0, restart.stderr[-2000:]

    with sqlite3.connect(state / "ronda.sqlite3") as db:
        rows = db.execute("SELECT file, state, duration_s, size_bytes FROM clips").fetchall()
        linked = {r[0] for r in db.execute("SELECT file FROM event_clips")}
    assert rows and all(state_ == "done" for _, state_, _, _ in rows)
    assert linked <= {file for file, *_ in rows}
    for file, _, duration, size in rows:
        path = state / file
        assert path.stat().st_size == size and moov_before_mdat(path)
        clip = decode(path)
        assert clip.times and clip.times[-1] == pytest.approx(duration, abs=0.2)
    # The interrupted recording was kept as a shorter, playable clip.
    assert set(interrupted) <= {file for file, *_ in rows}
    leftovers = [p.name for p in (state / "clips").iterdir() if not p.name.endswith(".mp4")]
    assert leftovers == []


def test_tiny_max_gigabytes_deletes_the_oldest_and_logs_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    database = Database(tmp_path / "ronda.sqlite3")
    store = ClipStore(database)
    (tmp_path / "clips").mkdir()
    for number in range(4):
        file = f"clips/c{number}.mp4"
        (tmp_path / file).write_bytes(b"x" * 400_000)
        store.opened(file, start_time=0.0, now=1000.0 + number)
        store.finished(file, 10.0, 400_000)
    budget = ClipBudget(ClipsConfig(max_gigabytes=0.001), store)  # 1 MB: two clips fit
    with caplog.at_level(logging.INFO, logger="camera.record.budget"):
        pruned = budget.prune(now=2000.0)
    assert (pruned.by_size, pruned.by_age) == (2, 0)
    assert [c.file for c in store.all()] == ["clips/c2.mp4", "clips/c3.mp4"]
    assert sorted(p.name for p in (tmp_path / "clips").iterdir()) == ["c2.mp4", "c3.mp4"]
    assert store.deleted() == 2
    assert "deleted 2 oldest clip(s)" in caplog.text and "max_gigabytes" in caplog.text
    # Older than retention_days: gone too, even the newest.
    aged = ClipBudget(ClipsConfig(retention_days=1.0), store).prune(now=1003.0 + 2 * 86400)
    assert aged.by_age == 2 and store.all() == []
    database.close()


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 24 MB tmpfs (root only): a disk that really fills up."""
    import os
    import shutil

    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    mountpoint = tmp_path / "disk"
    mountpoint.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mountpoint)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    yield mountpoint
    subprocess.run(["umount", "-l", str(mountpoint)], check=False)


@pytest.mark.slow
def test_full_disk_stops_clips_never_alerts(
    tmp_path: Path, small_disk: Path, broker: Mosquitto, subscriber: Subscriber
) -> None:
    import os

    state = small_disk / "state"
    config = write_config(
        tmp_path,
        store={"path": str(state)},
        mqtt={"host": broker.host, "port": broker.port},
        clips={"min_free_megabytes": 4.0},
    )
    # Leave 4.6 MB free: a clip may start, but crosses the 4 MB reserve long before it ends.
    stats = os.statvfs(small_disk)
    free = stats.f_bavail * stats.f_frsize
    (small_disk / "filler").write_bytes(b"\0" * (free - 4_600_000))
    jsonl = tmp_path / "events.jsonl"
    result = ronda(
        "replay", footage("clips/intel_one-by-one-person-detection.mp4"), "--config", config,
        "--events-jsonl", jsonl,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    updates = jsonl.read_text().splitlines()
    assert len([u for u in updates if '"type":"start"' in u]) >= 5
    # Every alert reached the subscriber, in spite of the full disk.
    assert subscriber.wait_for(lambda s: len(s.events()) == len(updates), timeout=30)
    assert "clips: stopped recording" in result.stderr
    assert "alerts are not affected" in result.stderr
    # The stats say so: clips were abandoned, none finished.
    assert subscriber.wait_for(lambda s: any(m.json()["clips"]["aborted"] for m in s.on("/stats")))
    last = subscriber.on("/stats")[-1].json()["clips"]
    assert last["recorded"] == 0 and last["aborted"] >= 1 and last["mode"] == "full"
    with sqlite3.connect(state / "ronda.sqlite3") as db:
        rows = db.execute("SELECT file, state FROM clips").fetchall()
        events = db.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    assert events == len({u.split('"id":"')[1].split('"')[0] for u in updates})
    # No clip could be finished on the full disk, and nothing half-written is left.
    assert rows == []
    assert [p.name for p in (state / "clips").iterdir()] == []


def test_pruned_events_take_only_the_clips_no_other_event_shows(tmp_path: Path) -> None:
    from dataclasses import replace

    from camera.events import ClipRef
    from camera.store import EventStore, StoreConfig
    from tests.clip_helpers import event_update as update

    database = Database(tmp_path / "ronda.sqlite3")
    events = EventStore(database, StoreConfig(path=tmp_path, max_events=10))
    (tmp_path / "clips").mkdir()
    files = ["clips/shared.mp4", "clips/shared.mp4"] + [f"clips/own{n}.mp4" for n in range(9)]
    for number, file in enumerate(files):
        if not (tmp_path / file).exists():
            (tmp_path / file).write_bytes(b"mp4")
            events.clips.opened(file, 0.0)
            events.clips.finished(file, 1.0, 3)
        event = update("end", f"e{number:02d}", 0.0, 5.0)
        events.record(replace(event, clip=ClipRef(file, offset_s=float(number))), None)
    assert events.recent(1)[0].clip == ClipRef("clips/own8.mp4", 10.0, 1.0, 3)
    assert events.prune() == 1  # e00 goes; e01 still shows the shared clip
    assert (tmp_path / "clips/shared.mp4").exists()
    events.record(replace(update("end", "e11", 0.0, 5.0), clip=None), None)
    assert events.prune() == 1  # e01 goes, and with it the last link to the shared clip
    assert not (tmp_path / "clips/shared.mp4").exists()
    assert [c.file for c in events.clips.all()] == [f"clips/own{n}.mp4" for n in range(9)]
    database.close()

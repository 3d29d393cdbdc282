"""Event clips from a real recording, through the real CLI: every person event of the
one-by-one footage gets a playable MP4 that starts ``pre_s`` before it, ends ``post_s`` after it
and shows the person.  One replay is shared by every assertion (module fixture)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest

from camera.detect import DetectorConfig, load_detector
from camera.types import Box, Region
from tests.cli_helpers import ronda, write_config
from tests.clip_helpers import Decoded, decode, moov_before_mdat
from tests.conftest import footage, footage_labels

pytestmark = pytest.mark.slow

CLIP = "clips/intel_one-by-one-person-detection.mp4"
PRE_S, POST_S = 5.0, 5.0
TOLERANCE_S = 0.5


@dataclass
class Replay:
    state: Path
    config: Path
    updates: list[dict]
    summary: str


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory) -> Replay:
    tmp_path = tmp_path_factory.mktemp("clips")
    config = write_config(
        tmp_path, mqtt={"enabled": False}, clips={"pre_s": PRE_S, "post_s": POST_S}
    )
    jsonl = tmp_path / "events.jsonl"
    result = ronda("replay", footage(CLIP), "--config", config, "--events-jsonl", jsonl)
    assert result.returncode == 0, result.stderr[-3000:]
    updates = [json.loads(line) for line in jsonl.read_text().splitlines()]
    return Replay(tmp_path / "state", config, updates, result.stdout)


def ends(replay: Replay) -> list[dict]:
    return [u for u in replay.updates if u["type"] == "end"]


def stored_clips(replay: Replay) -> dict[str, tuple[str, float, float, int]]:
    """event id -> (file, offset_s, duration_s, size_bytes) as the store has them."""
    with sqlite3.connect(replay.state / "ronda.sqlite3") as db:
        rows = db.execute(
            "SELECT e.event_id, c.file, e.offset_s, c.duration_s, c.size_bytes, c.state"
            " FROM event_clips e JOIN clips c USING (file)"
        ).fetchall()
    assert all(row[5] == "done" for row in rows), rows
    return {row[0]: (row[1], row[2], row[3], row[4]) for row in rows}


def test_every_person_event_names_its_clip(replay: Replay) -> None:
    people = [u for u in ends(replay) if u["label"] == "person"]
    assert 5 <= len(people) <= 7, replay.updates
    for update in replay.updates:
        clip = update["clip"]
        assert clip is not None, update
        assert clip["file"].startswith("clips/") and clip["file"].endswith(".mp4")
        assert clip["url"] is None  # no web address configured
        assert clip["size_bytes"] is None  # known only once the file is closed
        assert (
            clip["offset_s"]
            == pytest.approx(update["start_time"] - max(0.0, update["start_time"] - PRE_S), abs=0.5)
            or clip["offset_s"] > PRE_S
        )  # a later event in a shared recording
    for end in people:  # the end names the planned length of the recording so far
        assert end["clip"]["duration_s"] is None or end["clip"]["duration_s"] >= (
            end["end_time"] - end["start_time"]
        )
    stored = stored_clips(replay)
    assert set(stored) == {u["id"] for u in people}
    for end in people:
        file, offset, duration, size = stored[end["id"]]
        assert (file, offset) == (end["clip"]["file"], end["clip"]["offset_s"])
        assert size == (replay.state / file).stat().st_size and duration > 0


def test_overlapping_events_share_one_recording(replay: Replay) -> None:
    stored = stored_clips(replay)
    files = {file for file, *_ in stored.values()}
    assert len(files) < len(stored), "events within pre_s + post_s of each other share a file"
    assert sorted(p.name for p in (replay.state / "clips").iterdir()) == sorted(
        Path(f).name for f in files
    ), "no partial or orphan files are left"


def test_clips_are_playable_and_cover_each_event(replay: Replay) -> None:
    video_end = footage_labels(CLIP)["duration_s"]
    stored = stored_clips(replay)
    decoded: dict[str, Decoded] = {}
    for end in ends(replay):
        file, offset, duration, _ = stored[end["id"]]
        path = replay.state / file
        if file not in decoded:
            decoded[file] = decode(path)
            assert decoded[file].codec == "h264" and decoded[file].size == (768, 432)
            assert moov_before_mdat(path), f"{file}: the index is not at the front"
        clip = decoded[file]
        # The first frame shown is the file's time 0, even though a keyframe came before it.
        assert clip.times[0] == pytest.approx(0.0, abs=0.11)
        assert clip.times[-1] == pytest.approx(duration, abs=0.2)
        # On the footage's own timeline: where this file starts and ends.
        file_start = end["start_time"] - offset
        file_end = file_start + clip.times[-1]
        assert file_start <= max(0.0, end["start_time"] - PRE_S) + TOLERANCE_S
        assert file_end >= min(video_end, end["end_time"] + POST_S) - TOLERANCE_S
        # Gaps would mean dropped frames: a replay never drops (it waits for the encoder).
        gaps = [b - a for a, b in zip(clip.times, clip.times[1:], strict=False)]
        assert max(gaps) < 0.15
    # The first event of a file starts it, the last one ends it (both within 0.5 s).
    by_file: dict[str, list[dict]] = {}
    for end in ends(replay):
        by_file.setdefault(stored[end["id"]][0], []).append(end)
    for file, events in by_file.items():
        first, last = events[0], events[-1]
        file_start = first["start_time"] - stored[first["id"]][1]
        assert file_start == pytest.approx(max(0.0, first["start_time"] - PRE_S), abs=TOLERANCE_S)
        file_end = file_start + decoded[file].times[-1]
        assert file_end == pytest.approx(min(video_end, last["end_time"] + POST_S), abs=TOLERANCE_S)


def test_the_person_is_in_the_clip(replay: Replay) -> None:
    detector = load_detector(DetectorConfig())
    stored = stored_clips(replay)
    try:
        for end in ends(replay):
            file, offset, _, _ = stored[end["id"]]
            middle = offset + (end["end_time"] - end["start_time"]) / 2
            image = decode(replay.state / file).frame_at(replay.state / file, middle)
            height, width = image.shape[:2]
            halves = [
                Region(Box(0, 0, height, height)),
                Region(Box(width - height, 0, width, height)),
            ]
            found = [d for d in detector.detect(image, halves) if d.label == "person"]
            assert found, f"no person at {middle:.1f} s of {file} (event {end['id']})"
    finally:
        detector.close()


def test_ronda_events_and_ronda_clip_show_and_export_it(replay: Replay, tmp_path: Path) -> None:
    listing = ronda("events", "--config", replay.config)
    assert listing.returncode == 0, listing.stderr
    stored = stored_clips(replay)
    for file, offset, _, _ in stored.values():
        assert f"clip {file} (" in listing.stdout and f"event at {offset:.1f} s" in listing.stdout
    event_id, (file, _, duration, _) = next(iter(stored.items()))
    out = tmp_path / "exported.mp4"
    exported = ronda("clip", event_id, "--out", out, "--config", replay.config)
    assert exported.returncode == 0, exported.stderr
    assert out.read_bytes() == (replay.state / file).read_bytes()
    assert decode(out).times[-1] == pytest.approx(duration, abs=0.2)
    missing = ronda("clip", "no-such-event", "--config", replay.config)
    assert missing.returncode == 1 and "no-such-event has no clip" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1  # one line, no traceback

"""``ronda eval``'s groups: a manifest item's ``light`` and ``footage`` put its numbers in the day
or night row and in the real, re-rendered or composed row; a baseline holds each row it has."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from camera.cli.eval import _baseline, _baseline_verdicts
from camera.eval.manifest import ManifestError, load_manifest
from camera.eval.metrics import ClipScore


def _manifest(tmp_path: Path, **item: object) -> Path:
    (tmp_path / "clip.mp4").write_bytes(b"")
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"items": [{"path": "clip.mp4", **item}]}))
    return path


@pytest.mark.parametrize(
    ("light", "footage", "groups"),
    [
        ("ir", "real", ("night", "real")),
        ("night", "composed", ("night", "composed")),
        ("dusk", "re-rendered", ("day", "re-rendered")),
        (None, None, ("day", "real")),  # an owner's own recording, unmarked
    ],
)
def test_light_and_footage_put_a_clip_in_its_groups(
    tmp_path: Path, light: str | None, footage: str | None, groups: tuple[str, str]
) -> None:
    fields = {k: v for k, v in (("light", light), ("footage", footage)) if v is not None}
    clip = load_manifest(_manifest(tmp_path, **fields)).clips[0]
    assert clip.groups == groups


def test_an_unknown_light_is_refused_with_the_item_and_the_choices(tmp_path: Path) -> None:
    with pytest.raises(ManifestError) as error:
        load_manifest(_manifest(tmp_path, light="moonlight"))
    assert "items[0]: light must be one of day, dusk, night, ir (got 'moonlight')" in str(
        error.value
    )


def _score(visits: int, found: int, alerts: int, false_alarms: int = 0) -> ClipScore:
    return ClipScore(
        visits=visits,
        visits_found=found,
        alerts=alerts,
        matched_alerts=alerts - false_alarms,
        alerts_on_found_visits=alerts - false_alarms,
        false_alarms=false_alarms,
    )


def test_a_baseline_holds_each_group_it_names(tmp_path: Path) -> None:
    baseline_file = tmp_path / "baseline.json"
    row = {"precision": 1.0, "recall": 0.5, "alerts_per_visit": 1.0, "confusions": {}}
    baseline_file.write_text(
        json.dumps({"overall": row, "groups": {"night": {**row, "false_alarms": 0}}})
    )
    baseline = _baseline(baseline_file)
    assert baseline["night"]["false_alarms"] == 0 and baseline["overall"]["recall"] == 0.5

    held = _baseline_verdicts(baseline["night"], _score(4, 2, 2), "night ")
    assert all(v.passed for v in held) and "night recall" in [v.name for v in held]

    worse = _baseline_verdicts(baseline["night"], _score(4, 1, 2, false_alarms=1), "night ")
    failed = {v.name: v for v in worse if not v.passed}
    assert set(failed) == {"night recall", "night precision", "night false alarms"}
    assert failed["night recall"].limit == ">= 0.5 (baseline)"

"""The regression gate: ``ronda eval`` on the eval set's CI part, held to the committed baseline.

The CI part (``tests/evalset/scenes.py``: still things beside moving ones, a person in view from
the start, infrared night, a quiet room with light changes; the real set of
``tests/footage/real``; its lawn clip re-rendered in infrared night) is built from the
repository's photos and clips into a temporary folder (deterministic), then replayed through the
real pipeline with the real detector.  ``tests/evalset/baseline.json`` holds its numbers, overall
and per group: the gate fails when precision, recall, alerts per visit, label confusions, false
alarms or still things alerted get worse overall, by day, at night, on real footage, on
re-rendered or on composed footage.  Improve the numbers, then refresh the baseline with the
command in ``docs/eval.md``.  The second test takes the still-thing rule away and shows the gate
failing.

CI cost (measured, docs/eval.md): the build and one replay of 8 clips / 2,390 frames, one
replay of the 2 still-thing clips: 103 s of CPU, 4.9 min wall at load 17 (81 s of CPU
before the footpath clip, 46 s before the real and night parts).
"""

from __future__ import annotations

import json
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from tests.cli_helpers import ronda, write_config
from tests.evalset.build import build

BASELINE = Path(__file__).parent / "evalset" / "baseline.json"
# variant auto with an unbounded budget: always the most accurate model, however loaded the
# machine is (a loaded CI machine would otherwise time a cheaper one in)
DETECTOR = {"variant": "auto", "budget_ms": 60000}


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("evalset"), "ci")


def gate(manifest: Path, tmp_path: Path, *extra: str, **sections: dict) -> CompletedProcess:
    config = write_config(tmp_path, mqtt={"enabled": False}, detector=DETECTOR, **sections)
    return ronda(
        "eval",
        manifest,
        "--config",
        config,
        "--baseline",
        BASELINE,
        "--report",
        tmp_path / "report.html",
        "--json",
        tmp_path / "numbers.json",
        *extra,
    )


# ~80 s of CPU (build + replay), but 6-7 min wall at load 17 on 2 cores: the default 300 s
# timeout failed there although the numbers held (measured 00:30, 8 Dec).
@pytest.mark.slow
@pytest.mark.timeout(600)
def test_the_ci_part_of_the_eval_set_holds_the_baseline(manifest: Path, tmp_path: Path) -> None:
    result = gate(manifest, tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    numbers = json.loads((tmp_path / "numbers.json").read_text())
    overall = numbers["overall"]
    assert overall["still_alerts"] == 0 and overall["false_alarms"] == 0
    assert overall["confusions"] == {}
    # the person standing in view from the first frame is alerted
    assert numbers["clips"]["composed/standing-at-start.mp4"]["recall"] == 1.0
    groups = numbers["groups"]
    assert set(groups) == {"day", "night", "real", "re-rendered", "composed"}
    assert groups["real"]["visits"] == 11 and groups["night"]["visits"] == 4
    assert groups["day"]["visits"] + groups["night"]["visits"] == overall["visits"]
    assert groups["real"]["false_alarms"] == 0 and groups["night"]["false_alarms"] == 0
    verdicts = {t["name"]: t for t in numbers["thresholds"]}
    assert verdicts["still things alerted"]["passed"] and verdicts["recall"]["passed"]
    assert verdicts["night recall"]["passed"] and verdicts["real alerts per visit"]["passed"]
    assert len(verdicts) == 6 * 6  # every number of the baseline, overall and per group
    assert "night: visits 4;" in result.stdout and "real: visits 11;" in result.stdout


@pytest.mark.slow
def test_the_gate_fails_when_still_things_alert_again(manifest: Path, tmp_path: Path) -> None:
    """Still things held to the ordinary threshold (the rule before it existed)."""
    off = {"still_threshold": 0.01}
    pet = {**off, "min_area": 0.0002, "min_size_px": 16}  # the pet rule's other defaults
    result = gate(
        manifest,
        tmp_path,
        "--only",
        "still-",
        tracker={"labels": {"person": off, "pet": pet}},
    )
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    assert "ronda eval: still things alerted is " in result.stderr
    assert "the limit is <= 0 (baseline)" in result.stderr
    numbers = json.loads((tmp_path / "numbers.json").read_text())
    assert numbers["overall"]["still_alerts"] >= 1

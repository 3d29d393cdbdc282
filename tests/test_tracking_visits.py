"""One visit, one event, fast: edge entries, boxes that jump, detection gaps, people in view at
the start (issue 27), replayed through the real pipeline (motion, regions, TFLite, tracker).

- ``top_rail``: a person carrying a parcel comes in from the top edge of the picture, growing
  as they walk towards the camera, behind a porch rail that hides their middle: the detector
  gives the upper body, the whole body, both at once, and nothing for a while.  The tracker
  before issue 27 made two events of it (a track on the upper body and one on the whole).
- the real lawn (``tests/footage/real``, OpenCV's vtest.avi): a woman walks out at the right
  edge, stays a sliver the detector does not see for 1.8 s and comes back: one visit (the
  tracker before: two events).
- ``standing-at-start`` of the eval set: a person in view from the first frame who only sways
  3 px: alerted after 6.3 s before (motion never woke the detector), now well within 2 s.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from camera.eval.metrics import Span
from tests.conftest import footage, footage_labels
from tests.evalset.render import background, render, sprite
from tests.evalset.scenes import person_in_view_at_start
from tests.scored_replay import Replayed, ScoredReplays
from tests.synthetic import Actor, Scene

W, H = 640, 360
LAWN = "real/opencv_vtest-lawn.mp4"


def top_rail() -> Scene:
    walker = Actor(
        sprite("person_beach_a"),
        170,
        [(0.5, 330, 0), (3.5, 300, 350), (5.5, 300, 352), (8.0, 280, 600)],
        heights=[170, 320, 320, 420],
        carry=True,
    )
    return Scene(
        "top_rail",
        (W, H),
        10.0,
        [walker],
        background=background("garden", (W, H)),
        occluders=[(250, 120, 360, 200)],
    )


def _visits(relative: str) -> list[Span]:
    item = footage_labels(relative)
    return [
        Span(label, first / item["fps"], (last + 1) / item["fps"])
        for label, ranges in item["labels"].items()
        if label in ("person", "pet")
        for first, last in ranges
    ]


@pytest.fixture(scope="module")
def replays(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Replayed]:
    root = tmp_path_factory.mktemp("visits")
    scene = top_rail()
    standing = root / "standing.mp4"
    clips = {
        "top_rail": (
            scene.render(root / "top_rail"),
            [Span(v.label, v.start, v.end) for v in scene.visits()],
        ),
        "standing": (
            standing,
            [
                Span(label, first / 10.0, (last + 1) / 10.0)
                for label, first, last in render(person_in_view_at_start(), standing)
            ],
        ),
        "lawn": (footage(LAWN), _visits(LAWN)),
    }
    replays = ScoredReplays(root)
    try:
        return {
            name: replays.replay(Path(path), visits, tolerance_s=1.0)
            for name, (path, visits) in clips.items()
        }
    finally:
        replays.close()


def _starts(run: Replayed) -> list[tuple[str, str, float]]:
    return [(u.id, u.label, u.frame_time) for u in run.updates if u.type == "start"]


@pytest.mark.parametrize("name", ["top_rail", "lawn", "standing"])
def test_every_visit_alerts_exactly_once(replays: dict[str, Replayed], name: str) -> None:
    run = replays[name]
    assert run.score.recall == 1.0, _starts(run)
    assert run.score.max_alerts_per_visit == 1, _starts(run)
    assert run.score.false_alarms == 0 and run.score.confusions == {}, _starts(run)


def test_people_in_view_at_the_start_are_alerted_within_two_seconds(
    replays: dict[str, Replayed],
) -> None:
    """The start scan looks at the whole picture at the first frame; a person swaying on the
    spot is told from a statue by the content of their box shifting."""
    starts = _starts(replays["standing"])
    assert starts and max(t for _, _, t in starts) <= 2.0, starts

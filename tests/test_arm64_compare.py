"""tests/arm64/compare.py, the arm64 check's verdict: it must notice what "same alerts" excludes.

The check itself (tests/arm64/check.sh) runs for minutes under qemu and is not part of the suite.
"""

from __future__ import annotations

from tests.arm64.compare import differences

START = {
    "type": "start",
    "label": "person",
    "sequence": 1,
    "score": 0.758,
    "box": [325, 111, 485, 416],
    "start_time": 6.4,
    "end_time": None,
    "frame_time": 6.8,
}
END = {**START, "type": "end", "sequence": 2, "score": 0.789, "end_time": 19.4, "frame_time": 23.4}
LIMITS = {"score": 0.06, "box": 4, "seconds": 0.5}


def test_updates_within_the_tolerances_agree() -> None:
    near = {**START, "score": 0.81, "box": [321, 115, 489, 412], "frame_time": 7.2}
    assert differences([START, END], [near, END], **LIMITS) == []


def test_each_kind_of_difference_is_reported() -> None:
    assert differences([START, END], [START], **LIMITS) == ["2 updates on x86, 1 on arm64"]
    (score,) = differences([START], [{**START, "score": 0.82}], **LIMITS)
    assert "score 0.758 vs 0.82" in score
    (box,) = differences([START], [{**START, "box": [320, 111, 485, 416]}], **LIMITS)
    assert "box" in box
    (label,) = differences([START], [{**START, "label": "pet"}], **LIMITS)
    assert "arm64 has start pet #1" in label
    (ended,) = differences([START], [{**START, "end_time": 9.0}], **LIMITS)
    assert "end_time None vs 9.0" in ended

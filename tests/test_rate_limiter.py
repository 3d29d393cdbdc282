"""Dropping frames on their timestamps gives the asked-for rate."""

from __future__ import annotations

import pytest

from camera.pipeline import FrameRateLimiter


@pytest.mark.parametrize(("native", "target"), [(10, 5), (10, 3), (30, 2), (12.5, 4)])
def test_processed_rate_matches_target(native: float, target: float) -> None:
    limiter = FrameRateLimiter(target)
    kept = [i / native for i in range(int(native * 60)) if limiter.accept(i / native)]
    rate = (len(kept) - 1) / (kept[-1] - kept[0])
    assert rate == pytest.approx(target, rel=0.03)


def test_none_keeps_every_frame_and_change_applies_at_once() -> None:
    limiter = FrameRateLimiter(None)
    assert all(limiter.accept(i / 10) for i in range(20))
    limiter.fps = 2
    kept = [i for i in range(20, 60) if limiter.accept(i / 10)]
    assert kept == [20, 25, 30, 35, 40, 45, 50, 55]

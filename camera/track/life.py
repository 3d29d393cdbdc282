"""A track's phase and what its event has published: the state ``camera.track.lifecycle``
moves on.

It lives apart from the lifecycle's rules so that a track (``camera.track.state``) can hold
its ``Life`` without importing the rules, which read the track: one direction of imports,
state -> life <- lifecycle -> state, no circle.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Phase(Enum):
    """Where a track is in its life; see the module docstring."""

    TENTATIVE = "tentative"
    CONFIRMED = "confirmed"
    ALERTED = "alerted"
    ENDED = "ended"


class Quiet(Enum):
    """Why a confirmed track has no event (yet)."""

    HELD = "held"
    """It never moved on its own: a still thing beside something that moves."""
    SILENT = "silent"
    """It is back where a stationary object of its label rested and ended: the same object."""


@dataclass(slots=True)
class Life:
    """One track's phase and what its event has published so far."""

    phase: Phase = Phase.TENTATIVE
    quiet: Quiet | None = None
    """Set only in ``CONFIRMED``: the object is confirmed but has no event."""
    confirmed_at: float = 0.0
    published_label: str = ""
    snapshot_score: float = 0.0
    last_update: float = 0.0

    @property
    def confirmed(self) -> bool:
        """Confirmed and not ended, with or without an event."""
        return self.phase in (Phase.CONFIRMED, Phase.ALERTED)

    @property
    def event_open(self) -> bool:
        """Its event started and has not ended."""
        return self.confirmed and self.quiet is None

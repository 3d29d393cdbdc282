"""The control state and the rules for changing it: what each command accepts.

``ControlState`` is immutable: a change makes a new one, so the frame loop reads a consistent
state with one attribute access and never takes a lock.  ``change`` is the only place a payload
becomes a state; every entry point (MQTT command topics, the web page) ends up here through
``Controls.change``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal, get_args

from camera.motion.config import Sensitivity

Suppression = Literal["disarmed", "snoozed"]
"""Why an event was not alerted (``suppressed_by`` in the event JSON)."""

MAX_SNOOZE_MINUTES = 1440
"""A day: a longer pause is "disarmed", which the owner sees as such."""
SENSITIVITIES: tuple[Sensitivity, ...] = get_args(Sensitivity)
THRESHOLD_LABELS = ("person", "pet")
SWITCHES = ("armed", "privacy", "recording")
CONTROL_NAMES = (
    "armed",
    "snooze",
    "privacy",
    "recording",
    "sensitivity",
    *(f"threshold/{label}" for label in THRESHOLD_LABELS),
)
"""Every control, named as in its topics (``<prefix>/<name>`` and ``<prefix>/<name>/set``)."""


class ControlError(ValueError):
    """A command that is not valid for its control: one line, said to whoever sent it."""


@dataclass(frozen=True, slots=True)
class ControlState:
    """What the owner chose.  ``snooze_until``: epoch seconds, None when not snoozed."""

    armed: bool = True
    snooze_until: float | None = None
    privacy: bool = False
    recording: bool = True
    sensitivity: Sensitivity = "medium"
    thresholds: Mapping[str, float] = field(default_factory=dict)

    def snoozed(self, now: float) -> bool:
        return self.snooze_until is not None and now < self.snooze_until

    def suppression(self, now: float) -> Suppression | None:
        """Why an event starting ``now`` is not alerted, or None when it is."""
        if not self.armed:
            return "disarmed"
        if self.snoozed(now):
            return "snoozed"
        return None

    def snooze_minutes(self, now: float) -> int:
        """Whole minutes of snooze left, rounded up (0: not snoozed)."""
        if self.snooze_until is None or now >= self.snooze_until:
            return 0
        return math.ceil((self.snooze_until - now) / 60)

    def headline(self, now: float) -> str:
        """The camera's state in one word, for a dashboard: ``privacy`` (it looks at nothing),
        ``disarmed``, ``snoozed`` or ``watching`` (alerts on)."""
        if self.privacy:
            return "privacy"
        return self.suppression(now) or "watching"

    def value(self, control: str, now: float) -> str:
        """The retained state payload of ``control`` (``ON``/``OFF``, minutes, a level)."""
        if control in SWITCHES:
            return "ON" if getattr(self, control) else "OFF"
        if control == "snooze":
            return str(self.snooze_minutes(now))
        if control == "sensitivity":
            return self.sensitivity
        label = control.removeprefix("threshold/")
        return f"{self.thresholds[label]:g}"

    def as_dict(self, now: float) -> dict[str, object]:
        """The retained ``<prefix>/controls`` JSON and the ``controls`` entry of the stats."""
        until = self.snooze_until if self.snoozed(now) else None
        return {
            "armed": self.armed,
            "snooze_minutes": self.snooze_minutes(now),
            "snooze_until": None if until is None else local_iso(until),
            "privacy": self.privacy,
            "recording": self.recording,
            "sensitivity": self.sensitivity,
            "thresholds": dict(self.thresholds),
            "alerting": self.suppression(now) is None,
            "state": self.headline(now),
        }

    # -- the state file ----------------------------------------------------------------------
    def to_file(self) -> dict[str, object]:
        return {
            "armed": self.armed,
            "snooze_until": self.snooze_until,
            "privacy": self.privacy,
            "recording": self.recording,
            "sensitivity": self.sensitivity,
            "thresholds": dict(self.thresholds),
        }

    def from_file(self, data: Mapping[str, object]) -> ControlState:
        """This state (the first values) with every valid entry of a saved file on top; an
        entry that is missing or not valid keeps its first value (a file from an older Ronda,
        or one edited by hand, never stops the camera)."""
        state = self
        switches = {name: data[name] for name in SWITCHES if isinstance(data.get(name), bool)}
        state = _with_switches(state, switches)  # type: ignore[arg-type]
        until = data.get("snooze_until")
        if isinstance(until, int | float) and not isinstance(until, bool) and math.isfinite(until):
            state = replace(state, snooze_until=float(until))
        if data.get("sensitivity") in SENSITIVITIES:
            state = replace(state, sensitivity=data["sensitivity"])  # type: ignore[arg-type]
        saved = data.get("thresholds")
        if isinstance(saved, Mapping):
            thresholds = dict(state.thresholds)
            for label, value in saved.items():
                if label in thresholds and _valid_threshold(value):
                    thresholds[label] = float(value)
            state = replace(state, thresholds=thresholds)
        return state


def initial_state(
    *, armed: bool, privacy: bool, recording: bool, sensitivity: Sensitivity,
    thresholds: Mapping[str, float],
) -> ControlState:  # fmt: skip
    """The first values, from the configuration file."""
    return ControlState(
        armed=armed,
        privacy=privacy,
        recording=recording,
        sensitivity=sensitivity,
        thresholds={label: thresholds[label] for label in THRESHOLD_LABELS},
    )


def change(state: ControlState, control: str, payload: str, now: float) -> ControlState:
    """``state`` with ``control`` set from a command ``payload``; ``ControlError`` says why a
    payload is refused (the state is then unchanged)."""
    text = payload.strip()
    if control in SWITCHES:
        return _with_switches(state, {control: _switch(text)})
    if control == "snooze":
        minutes = _minutes(text)
        return replace(state, snooze_until=now + 60 * minutes if minutes else None)
    if control == "sensitivity":
        if text.lower() not in SENSITIVITIES:
            raise ControlError(f"expected one of {', '.join(SENSITIVITIES)}, got {_shown(text)}")
        return replace(state, sensitivity=text.lower())  # type: ignore[arg-type]
    label = control.removeprefix("threshold/")
    if control.startswith("threshold/") and label in state.thresholds:
        return replace(state, thresholds={**state.thresholds, label: _threshold(text)})
    raise ControlError(f"no control named {_shown(control)}")


def _with_switches(state: ControlState, values: Mapping[str, bool]) -> ControlState:
    return replace(
        state,
        armed=values.get("armed", state.armed),
        privacy=values.get("privacy", state.privacy),
        recording=values.get("recording", state.recording),
    )


def _switch(text: str) -> bool:
    if text.upper() in ("ON", "OFF"):
        return text.upper() == "ON"
    raise ControlError(f"expected ON or OFF, got {_shown(text)}")


def _minutes(text: str) -> int:
    """Whole minutes 0..1440; ``30.0`` is accepted (Home Assistant's number entity may send it)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (value.is_integer() and 0 <= value <= MAX_SNOOZE_MINUTES):
        raise ControlError(
            f"expected whole minutes from 0 to {MAX_SNOOZE_MINUTES} (0 ends the snooze), "
            f"got {_shown(text)}"
        )
    return int(value)


def _threshold(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not _valid_threshold(value):
        raise ControlError(f"expected a score above 0 and at most 1, got {_shown(text)}")
    return value


def _valid_threshold(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and 0 < value <= 1
    )


def _shown(text: str) -> str:
    """A payload as a log line shows it: quoted, at most 40 characters."""
    return repr(text[:40] + ("…" if len(text) > 40 else ""))


def local_iso(epoch: float) -> str:
    """Local wall-clock time with its UTC offset, to the second."""
    return datetime.fromtimestamp(epoch).astimezone().isoformat(timespec="seconds")

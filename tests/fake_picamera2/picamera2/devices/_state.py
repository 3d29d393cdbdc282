"""What the fake devices share (not part of picamera2): their module-level state object is
renewed in place, so every module that imported it sees the fresh one."""

from __future__ import annotations

from typing import Any, TypeVar

State = TypeVar("State")


def renew(state: State, **values: Any) -> State:
    """``state`` as a new instance of its dataclass with ``values``, changed in place."""
    fresh = type(state)(**values)
    for name in fresh.__dataclass_fields__:  # type: ignore[attr-defined]
        setattr(state, name, getattr(fresh, name))
    return state

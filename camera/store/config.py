"""Where Ronda keeps its state, and for how long."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field

from camera.section import Section


def default_state_dir() -> Path:
    """``$STATE_DIRECTORY`` under systemd, else ``$XDG_DATA_HOME/ronda`` (``~/.local/share``)."""
    if state := os.environ.get("STATE_DIRECTORY"):
        return Path(state.split(":")[0])
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "ronda"


class StoreConfig(Section):
    """The local event store (SQLite plus thumbnail files)."""

    path: Path | None = None
    """State directory; empty means the default described in ``default_state_dir``."""
    retention_days: float = Field(30.0, gt=0, le=3650)
    """Events older than this are removed with their files."""
    max_events: int = Field(10_000, ge=10, le=10_000_000)
    """At most this many events are kept; the oldest go first, with their files."""

    def directory(self) -> Path:
        return (self.path or default_state_dir()).expanduser()

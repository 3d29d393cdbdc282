"""The state database's failures: one user-facing line each."""

from __future__ import annotations

from pathlib import Path

from camera.files import shown


class DatabaseError(Exception):
    """The state database cannot be opened or written (one user-facing line)."""


class DamagedDatabase(DatabaseError):
    """The file is corrupt or not Ronda's; ``reason`` says what the check found."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(
            f"state database {shown(path)} is damaged ({reason}); the next ronda run, replay or "
            "flush moves it aside and starts a new one"
        )
        self.reason = reason

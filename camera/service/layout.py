"""Where the installed service keeps things, shared by the installer, ``doctor`` and ``status``.

Standard library only (the installer runs on a bare system Python).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

SERVICE = "ronda"
USER = "ronda"


@dataclass(frozen=True)
class Layout:
    """Where everything goes on the live system (absolute paths, before any ``--root``)."""

    home: Path = Path("/opt/ronda")
    config: Path = Path("/etc/ronda/ronda.yaml")
    unit: Path = Path("/etc/systemd/system") / f"{SERVICE}.service"
    state: Path = Path("/var/lib/ronda")
    command: Path = Path("/usr/local/bin/ronda")
    """A link to the venv's ``ronda``, so ``sudo -u ronda ronda doctor`` works from a shell."""

    @property
    def venv(self) -> Path:
        return self.home / "venv"

    @property
    def models(self) -> Path:
        """Where installers before the models rode in the package copied them (removed at the
        next install; ``camera.detect`` still looks there last)."""
        return self.venv / "share" / "ronda" / "models"


def service_state_dir(configured: Path, store_path: Path | None, config_path: Path | None) -> Path:
    """The state directory the *service* uses, when ``doctor``/``status`` run from a shell.

    The service gets ``/var/lib/ronda`` from systemd (``$STATE_DIRECTORY``); a person running
    ``sudo ronda status`` has no such variable and would look in ``~/.local/share/ronda``.  When
    the configuration is the service's own and names no ``store.path``, the service's
    directory is the one meant.
    """
    layout = Layout()
    if (
        store_path is None
        and "STATE_DIRECTORY" not in os.environ
        and config_path is not None
        and config_path.resolve() == layout.config
    ):
        return layout.state
    return configured

"""Where the installed service keeps things, shared by the installer, ``doctor`` and ``status``.

Standard library only (the installer runs on a bare system Python).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

SERVICE = "ronda"
USER = "ronda"
CAMERA_NAME = re.compile(r"^[A-Za-z0-9_-]{1,48}$")
"""As ``camera.name`` allows: the instance name is the camera's name, in topics and entity ids."""
RESERVED_NAMES = frozenset({SERVICE, "home"})
"""``ronda`` is the single camera (``ronda.service``, ``ronda.yaml``); ``home.yaml`` belongs to
``ronda home``."""


def unit_name(camera: str | None) -> str:
    """The systemd unit of a camera: ``ronda`` for the single one, ``ronda@<camera>``."""
    return SERVICE if camera in (None, SERVICE) else f"{SERVICE}@{camera}"


@dataclass(frozen=True)
class Layout:
    """Where everything goes on the live system (absolute paths, before any ``--root``)."""

    home: Path = Path("/opt/ronda")
    config: Path = Path("/etc/ronda/ronda.yaml")
    unit: Path = Path("/etc/systemd/system") / f"{SERVICE}.service"
    state: Path = Path("/var/lib/ronda")
    command: Path = Path("/usr/local/bin/ronda")
    """A link to the venv's ``ronda``, so ``sudo -u ronda ronda doctor`` works from a shell."""

    template: Path = Path("/etc/systemd/system") / f"{SERVICE}@.service"
    """One more camera per instance (``camera.service.template``)."""

    def camera_config(self, camera: str) -> Path:
        return self.config if camera == SERVICE else self.config.with_name(f"{camera}.yaml")

    def camera_state(self, camera: str) -> Path:
        """``StateDirectory=ronda-%i`` of the template: beside, never inside, the single
        camera's ``/var/lib/ronda``."""
        return self.state if camera == SERVICE else self.state.with_name(f"{SERVICE}-{camera}")

    def camera_of(self, config_path: Path) -> str | None:
        """``/etc/ronda/<camera>.yaml`` -> the camera's name; None for any other file."""
        resolved = config_path.resolve()
        if resolved.parent != self.config.parent or resolved.suffix != ".yaml":
            return None
        return resolved.stem if CAMERA_NAME.match(resolved.stem) else None

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
    the configuration is a service's own (``/etc/ronda/<camera>.yaml``: ``ronda.yaml`` for the
    single camera, ``/var/lib/ronda-<camera>`` for ``ronda@<camera>``) and names no
    ``store.path``, that service's directory is the one meant.
    """
    layout = Layout()
    if store_path is None and "STATE_DIRECTORY" not in os.environ and config_path is not None:
        camera = layout.camera_of(config_path)
        if camera is not None:
            return layout.camera_state(camera)
    return configured

"""``ronda service install`` and ``uninstall``: Ronda as a systemd service, in one command.

Every step is data (:class:`Step`: what it does, in words a person can check, and the action),
so ``--dry-run`` prints exactly the steps a real run executes, and ``--root PREFIX`` runs the
same steps against a scratch directory: files land under PREFIX while the steps that change
the live system (``useradd``, ``chown`` to the service user, ``systemctl``) are printed and
skipped.  That is how the tests run the installer for real.

This module uses the standard library only, so ``sudo python3 -m camera service install``
works from a fresh checkout before any dependency is installed.

Layout on the Pi:

- ``/opt/ronda/venv``: a virtual environment created with ``--system-site-packages``, because
  picamera2 and libcamera come from apt (``python3-picamera2``) and are not on PyPI;
- the models ride inside the installed package (``camera/bundled_models``, put there by the
  wheel build), so pip installs them with the code and an upgrade can never pair new code with
  old models; a copy an earlier installer left in ``/opt/ronda/venv/share/ronda/models`` is
  removed;
- ``/etc/ronda/ronda.yaml``: the configuration (root:ronda, 0640, it may hold the MQTT password),
  written only if absent so an upgrade never overwrites the owner's settings;
- ``/etc/systemd/system/ronda.service``: the unit;
- ``/usr/local/bin/ronda``: a link to the venv's command (unless something else is there);
- ``/var/lib/ronda``: state (events, thumbnails, outbox), created by systemd's ``StateDirectory=``
  and kept by ``uninstall`` unless ``--purge``.
"""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import camera
from camera.service.layout import SERVICE, USER, Layout

CAMERA_GROUP = "video"
UNIT_SOURCE = Path("systemd") / "ronda.service"
EXAMPLE_CONFIG = Path("config") / "ronda.example.yaml"
MINIMAL_CONFIG = """\
# Ronda configuration.  Every option, with its default, is described in
# config/ronda.example.yaml of the Ronda source; `ronda doctor` checks this file.
camera:
  name: ronda
source:
  kind: picamera2
mqtt:
  host: localhost
"""


class InstallError(Exception):
    """The installation cannot proceed; the message is one line for the person installing."""


@dataclass(frozen=True)
class Step:
    """One step: ``description`` says what it does (the command line, or the file and why)."""

    description: str
    action: Callable[[], None]
    system: bool = False
    """Changes the live system outside the install paths (users, ownership, systemd)."""


def run_steps(
    steps: list[Step], *, dry_run: bool, skip_system: bool, out: Callable[[str], None]
) -> None:
    """Print each step, then do it (unless ``dry_run``, or it is a system step under --root)."""
    width = len(str(len(steps)))
    for number, step in enumerate(steps, 1):
        tag = f"[{number:>{width}}/{len(steps)}]"
        if dry_run:
            out(f"{tag} would {step.description}")
        elif step.system and skip_system:
            out(f"{tag} skipped (--root): {step.description}")
        else:
            out(f"{tag} {step.description}")
            step.action()


def default_python() -> str:
    """The interpreter the service venv is built on: the one under the current venv, if any.

    On Raspberry Pi OS that is ``/usr/bin/python3``, the interpreter apt installed picamera2 for.
    """
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    candidate = Path(sys.base_prefix) / "bin" / version
    return str(candidate if candidate.exists() else Path(sys.executable))


def find_source(given: Path | None = None) -> Path:
    """The Ronda checkout holding the unit, the example config and the models."""
    source = given or Path(camera.__file__).resolve().parent.parent
    if not (source / UNIT_SOURCE).is_file():
        raise InstallError(
            f"{source} is not a Ronda checkout ({UNIT_SOURCE} is missing): run the installer "
            "from a clone (sudo python3 -m camera service install) or pass --source DIR"
        )
    return source


class Installer:
    """Builds the install and uninstall steps; paths under ``root`` (``/`` for the real thing)."""

    def __init__(
        self,
        *,
        source: Path,
        root: Path = Path("/"),
        python: str | None = None,
        spec: str | None = None,
        pip_args: Iterable[str] = (),
        layout: Layout | None = None,
        start: bool = True,
    ) -> None:
        self.source = source
        self.root = root
        self.python = python or default_python()
        self.spec = spec or str(source)
        self.pip_args = list(pip_args)
        self.layout = layout or Layout()
        self.start = start

    def at(self, path: Path) -> Path:
        """``path`` of the live system, under the root prefix."""
        return self.root / path.relative_to("/")

    # -- install -----------------------------------------------------------------------------
    def install_steps(self) -> list[Step]:
        layout = self.layout
        venv = self.at(layout.venv)
        steps = [self._user_step()]
        if (venv / "bin" / "python").exists():
            steps.append(_note(f"reuse the virtual environment {venv}"))
        else:
            steps.append(command([self.python, "-m", "venv", "--system-site-packages", str(venv)]))
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--upgrade"]
        steps.append(command([*pip, *self.pip_args, self.spec]))
        steps.append(self._old_models_step())
        steps.append(self._command_link_step())
        steps.extend(self._config_steps())
        unit = self.source / UNIT_SOURCE
        steps.append(
            Step(
                f"install the unit {self.at(layout.unit)} (from {unit})",
                lambda: _write(self.at(layout.unit), unit.read_text(encoding="utf-8"), 0o644),
            )
        )
        steps.append(command(["systemctl", "daemon-reload"], system=True))
        steps.append(command(["systemctl", "enable", SERVICE], system=True))
        if self.start:
            # restart, not start: after an upgrade the running service must load the new code.
            steps.append(command(["systemctl", "restart", SERVICE], system=True))
        return steps

    def _user_step(self) -> Step:
        try:
            pwd.getpwnam(USER)
        except KeyError:
            return command(
                [
                    "useradd", "--system", "--user-group", "--groups", CAMERA_GROUP,
                    "--home-dir", str(self.layout.state), "--no-create-home",
                    "--shell", "/usr/sbin/nologin", USER,
                ],
                system=True,
            )  # fmt: skip
        return command(["usermod", "--append", "--groups", CAMERA_GROUP, USER], system=True)

    def _old_models_step(self) -> Step:
        """Earlier installers copied the models beside the venv; the package carries them now,
        and a stale copy would only take SD card space (about 38 MB)."""
        old = self.at(self.layout.models)
        if not old.exists():
            return _note(
                "use the models inside the package (camera/bundled_models): nothing to copy"
            )
        return Step(f"remove {old} (models now come with the package)", lambda: _remove(old))

    def _command_link_step(self) -> Step:
        link = self.at(self.layout.command)
        target = self.layout.venv / "bin" / "ronda"
        if link.exists() and not (link.is_symlink() and link.readlink() == target):
            return _note(f"leave {link} alone (not ours); the command is {target}")
        return Step(f"link {link} -> {target}", lambda: _symlink(link, target))

    def _config_steps(self) -> list[Step]:
        config = self.at(self.layout.config)
        if config.exists():
            return [_note(f"keep the existing configuration {config}")]
        example = self.source / EXAMPLE_CONFIG
        origin = str(example) if example.is_file() else "a minimal configuration"

        def write_config() -> None:
            text = example.read_text(encoding="utf-8") if example.is_file() else MINIMAL_CONFIG
            _write(config, text, 0o640)

        return [
            Step(f"write {config} (from {origin}, mode 0640)", write_config),
            Step(
                f"chown root:{USER} {config} (the service reads it; it may hold a password)",
                lambda: shutil.chown(config, "root", USER),
                system=True,
            ),
        ]

    # -- uninstall ---------------------------------------------------------------------------
    def uninstall_steps(self, *, purge: bool = False) -> list[Step]:
        layout = self.layout
        steps = [
            command(["systemctl", "disable", "--now", SERVICE], system=True, check=False),
            _remove_step(self.at(layout.unit), "the unit"),
            command(["systemctl", "daemon-reload"], system=True),
            _remove_step(self.at(layout.home), "the virtual environment and models"),
        ]
        link = self.at(layout.command)
        if link.is_symlink() and link.readlink() == layout.venv / "bin" / "ronda":
            steps.append(_remove_step(link, "the ronda command"))
        config_dir = self.at(layout.config.parent)
        state = self.at(layout.state)
        if purge:
            steps.append(_remove_step(config_dir, "the configuration"))
            steps.append(_remove_step(state, "the state: events, thumbnails, queued alerts"))
            steps.append(command(["userdel", USER], system=True, check=False))
        else:
            steps.append(_note(f"keep {config_dir} and {state} (events); --purge removes them"))
        return steps


def command(argv: list[str], *, system: bool = False, check: bool = True) -> Step:
    return Step(f"run {shlex.join(argv)}", lambda: _run(argv, check), system)


def _note(text: str) -> Step:
    return Step(text, lambda: None)


def _remove_step(path: Path, what: str) -> Step:
    if not (path.exists() or path.is_symlink()):
        return _note(f"skip {path} ({what}): not there")
    return Step(f"remove {path} ({what})", lambda: _remove(path))


def _run(argv: list[str], check: bool) -> None:
    try:
        subprocess.run(argv, check=check)
    except FileNotFoundError:
        raise InstallError(f"{argv[0]} is not installed or not on PATH") from None
    except subprocess.CalledProcessError as error:
        raise InstallError(f"{shlex.join(argv)} failed with exit code {error.returncode}") from None


def _write(path: Path, text: str, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.chmod(temporary, mode)
    os.replace(temporary, path)


def _symlink(link: Path, target: Path) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    link.unlink(missing_ok=True)
    link.symlink_to(target)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)

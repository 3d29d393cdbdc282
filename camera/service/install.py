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
  picamera2 and libcamera come from apt (``python3-picamera2``) and are not on PyPI; the
  dependencies are installed from the lock (``requirements/runtime.txt``: every version and
  sha256 as the tests ran them, plain pip, no other tool), then Ronda itself without
  dependencies, so an install or an upgrade never pulls a release nobody tested;
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
from camera.accelerators import PACKAGES, hailo_group, missing_packages, present
from camera.service.layout import CAMERA_NAME, RESERVED_NAMES, SERVICE, USER, Layout, unit_name
from camera.service.template import TemplateError, derive

CAMERA_GROUP = "video"
UNIT_SOURCE = Path("systemd") / "ronda.service"
LOCK_SOURCE = Path("requirements") / "runtime.txt"
LOCKED_MACHINES = ("x86_64", "aarch64")
LOCKED_PYTHONS = ((3, 11), (3, 12), (3, 13))
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


DEFAULT_WEB_PORT = 8080
CAMERA_CONFIG = """\
# Ronda camera {name} (ronda@{name}.service; state in /var/lib/ronda-{name}).  Every option is
# described in config/ronda.example.yaml of the Ronda source; `ronda doctor --camera {name}`
# checks this file.
camera:
  name: {name}
source:
  uri: {source}
web:
  port: {port}
{broker}"""


def check_camera_name(name: str) -> str:
    if not CAMERA_NAME.match(name):
        raise InstallError(
            f"camera name {name[:60]!r}: letters, digits, '-' and '_' only, at most 48 "
            "(it is part of MQTT topics and of the unit's name)"
        )
    if name in RESERVED_NAMES:
        raise InstallError(
            f"camera name {name!r} is taken ({name}.yaml is the "
            + ("single camera's" if name == SERVICE else "home page's")
            + " configuration): choose another"
        )
    return name


def camera_config(name: str, source: str, port: int, broker: str) -> str:
    return CAMERA_CONFIG.format(name=name, source=source, port=port, broker=broker)


def broker_block(text: str) -> str:
    """The top-level ``mqtt:`` block of a YAML text, without ``client_id``/``topic_prefix``
    lines (a second camera with the first one's would take over its session and topics);
    ``mqtt:`` with ``host: localhost`` when there is none."""
    lines = text.splitlines()
    block: list[str] = []
    inside = False
    for line in lines:
        if line.startswith("mqtt:"):
            inside = True
            block.append("mqtt:")
            continue
        if inside:
            if line and not line[0].isspace() and not line.startswith("#"):
                break
            if line.strip().startswith(("client_id:", "topic_prefix:")):
                continue
            block.append(line)
    while block and not block[-1].strip():
        block.pop()
    return "\n".join(block) + "\n" if len(block) > 1 else "mqtt:\n  host: localhost\n"


def web_port_of(text: str) -> int:
    """The ``web.port`` a config text sets (8080, the default, when it sets none)."""
    inside = False
    for line in text.splitlines():
        if line.startswith("web:"):
            inside = True
        elif inside and line and not line[0].isspace() and not line.startswith("#"):
            break
        elif inside and line.strip().startswith("port:"):
            value = line.split(":", 1)[1].split("#", 1)[0].strip()
            if value.isdigit():
                return int(value)
    return DEFAULT_WEB_PORT


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
        lock: Path | None = None,
        locked: bool = True,
        apt: bool = True,
    ) -> None:
        self.source = source
        self.root = root
        self.python = python or default_python()
        self.spec = spec or str(source)
        self.pip_args = list(pip_args)
        self.layout = layout or Layout()
        self.start = start
        self.lock = lock or source / LOCK_SOURCE
        self.locked = locked
        self.apt = apt

    def at(self, path: Path) -> Path:
        """``path`` of the live system, under the root prefix."""
        return self.root / path.relative_to("/")

    # -- install -----------------------------------------------------------------------------
    def install_steps(self) -> list[Step]:
        layout = self.layout
        venv = self.at(layout.venv)
        steps = [self._apt_step(), self._user_step()]
        if (venv / "bin" / "python").exists():
            steps.append(_note(f"reuse the virtual environment {venv}"))
        else:
            steps.append(command([self.python, "-m", "venv", "--system-site-packages", str(venv)]))
        steps.extend(self._pip_steps(venv))
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
        steps.append(self._template_step())
        steps.append(command(["systemctl", "daemon-reload"], system=True))
        steps.append(command(["systemctl", "enable", SERVICE], system=True))
        if self.start:
            # restart, not start: after an upgrade the running service must load the new code.
            steps.append(command(["systemctl", "restart", SERVICE], system=True))
        return steps

    def _template_step(self) -> Step:
        """``ronda@.service`` beside the single camera's unit: more cameras need only
        ``ronda service add`` (and an upgrade brings both units up to date together)."""
        unit = self.source / UNIT_SOURCE
        try:
            text = derive(unit.read_text(encoding="utf-8"))
        except TemplateError as error:
            raise InstallError(str(error)) from None
        target = self.at(self.layout.template)
        return Step(
            f"install the template unit {target} (ronda@<camera>, made from {unit.name})",
            lambda: _write(target, text, 0o644),
        )

    # -- more cameras --------------------------------------------------------------------------
    def add_camera_steps(self, camera: str, source: str, web_port: int | None) -> list[Step]:
        """``ronda@<camera>``: its config (written once, never overwritten), its unit enabled
        and started.  The venv and the template come from ``install``."""
        check_camera_name(camera)
        if not self.at(self.layout.venv / "bin" / "ronda").exists():
            raise InstallError("Ronda is not installed yet: run `ronda service install` first")
        template = self.at(self.layout.template)
        if (self.source / UNIT_SOURCE).is_file():
            steps = [self._template_step()]
        elif template.is_file():  # the installed command, far from any checkout
            steps = [_note(f"use the installed template unit {template}")]
        else:
            raise InstallError(
                f"{template} is missing: run `ronda service install` from a Ronda checkout first"
            )
        config = self.at(self.layout.camera_config(camera))
        if config.exists():
            steps.append(_note(f"keep the existing configuration {config}"))
        else:
            port = web_port or self._free_web_port()
            text = camera_config(camera, source, port, self._broker_block())
            steps.append(
                Step(
                    f"write {config} (camera {camera}, source {source}, web page on port "
                    f"{port}, the broker of {self.layout.config.name}; mode 0640)",
                    lambda: _write(config, text, 0o640),
                )
            )
            steps.append(
                Step(
                    f"chown root:{USER} {config}",
                    lambda: shutil.chown(config, "root", USER),
                    system=True,
                )
            )
        steps.append(command(["systemctl", "daemon-reload"], system=True))
        unit = unit_name(camera)
        steps.append(command(["systemctl", "enable", "--now", unit], system=True))
        return steps

    def remove_camera_steps(self, camera: str, *, purge: bool = False) -> list[Step]:
        """Stop and disable ``ronda@<camera>``; the single camera and the others run on."""
        check_camera_name(camera)
        steps = [_disable(unit_name(camera))]
        config = self.at(self.layout.camera_config(camera))
        state = self.at(self.layout.camera_state(camera))
        if purge:
            steps.append(_remove_step(config, "its configuration"))
            steps.append(_remove_step(state, "its state: events, thumbnails, queued alerts"))
        else:
            steps.append(_note(f"keep {config} and {state} (events); --purge removes them"))
        return steps

    def cameras(self) -> list[tuple[str, Path, Path]]:
        """(camera, config, state) of every installed camera: the single one first."""
        found = []
        folder = self.at(self.layout.config.parent)
        if self.at(self.layout.config).exists():
            found.append((SERVICE, self.layout.config, self.layout.state))
        for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
            name = path.stem
            if name not in RESERVED_NAMES and CAMERA_NAME.match(name):
                found.append(
                    (name, self.layout.camera_config(name), self.layout.camera_state(name))
                )
        return found

    def _broker_block(self) -> str:
        """The single camera's ``mqtt:`` section, so a new camera talks to the same broker
        (its own client id and topics follow from its name: those lines are left out)."""
        main = self.at(self.layout.config)
        text = main.read_text(encoding="utf-8") if main.is_file() else ""
        return broker_block(text)

    def _free_web_port(self) -> int:
        used = set()
        for _, config, _ in self.cameras():
            path = self.at(config)
            text = path.read_text(encoding="utf-8") if path.is_file() else ""
            used.add(web_port_of(text))
        port = DEFAULT_WEB_PORT
        while port in used:
            port += 1
        return port

    def _pip_steps(self, venv: Path) -> list[Step]:
        """The lock first (hashes checked), then Ronda alone, built by the locked hatchling;
        ``--unlocked`` is the old way: whatever pip resolves today."""
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", *self.pip_args]
        if not self.locked:
            return [command([*pip, "--upgrade", self.spec])]
        check_lock_applies(self.lock, self.python)
        return [
            command([*pip, "--require-hashes", "-r", str(self.lock)]),
            command([*pip, "--upgrade", "--no-deps", "--no-build-isolation", self.spec]),
        ]

    def _apt_step(self) -> Step:
        """What an AI Camera or a Hailo found on this Pi still needs from Raspberry Pi OS
        (``camera.accelerators``), before the venv: it sees apt's Python packages
        (``--system-site-packages``), HailoRT's binding among them."""
        found = present(self.root)
        if not found:
            return _note("no AI Camera or Hailo accelerator here: no apt package to add")
        names = ", ".join(f"{kind} ({PACKAGES[kind]})" for kind in found)
        missing = missing_packages(self.root)
        if not missing:
            return _note(f"found {names}: its software is installed")
        argv = ["apt-get", "install", "-y", "--no-install-recommends", *missing]
        if not self.apt:
            return _note(f"found {names}; --no-apt: install it yourself: sudo {shlex.join(argv)}")
        reboot = " (then reboot: the Hailo driver loads at boot)" if "hailo-all" in missing else ""
        return Step(f"run {shlex.join(argv)}{reboot}", lambda: _run(argv, True), system=True)

    def _user_step(self) -> Step:
        # The camera's group, and the Hailo's where a udev rule stricter than HailoRT's own
        # gave /dev/hailo0 one.
        groups = ",".join(dict.fromkeys([CAMERA_GROUP, *filter(None, [hailo_group(self.root)])]))
        try:
            pwd.getpwnam(USER)
        except KeyError:
            return command(
                [
                    "useradd", "--system", "--user-group", "--groups", groups,
                    "--home-dir", str(self.layout.state), "--no-create-home",
                    "--shell", "/usr/sbin/nologin", USER,
                ],
                system=True,
            )  # fmt: skip
        return command(["usermod", "--append", "--groups", groups, USER], system=True)

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
        more = [name for name, _, _ in self.cameras() if name != SERVICE]
        steps = [
            _disable(SERVICE),
            *(_disable(unit_name(name)) for name in more),
            _remove_step(self.at(layout.unit), "the unit"),
            _remove_step(self.at(layout.template), "the template unit of more cameras"),
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


def check_lock_applies(lock: Path, python: str) -> None:
    """The lock covers x86_64 and aarch64 Linux with Python 3.11 to 3.13: on anything else its
    markers would silently install nothing, so say so before touching the system."""
    if not lock.is_file():
        raise InstallError(f"the lock {lock} is missing: pass --lock FILE or --unlocked")
    machine = os.uname().machine
    probe = "import sys; print(*sys.version_info[:2])"
    try:
        found = subprocess.run([python, "-c", probe], capture_output=True, text=True, timeout=30)
        version = tuple(int(part) for part in found.stdout.split())
    except (OSError, ValueError, subprocess.TimeoutExpired):
        raise InstallError(f"cannot run {python} to check its version") from None
    if machine not in LOCKED_MACHINES or version not in LOCKED_PYTHONS:
        shown = ".".join(map(str, version))
        raise InstallError(
            f"the lock covers x86_64 and aarch64 with Python 3.11 to 3.13, not {machine} with "
            f"Python {shown}: install with --unlocked (newest releases, untested) at your risk"
        )


def command(argv: list[str], *, system: bool = False, check: bool = True) -> Step:
    return Step(f"run {shlex.join(argv)}", lambda: _run(argv, check), system)


def _disable(unit: str) -> Step:
    return command(["systemctl", "disable", "--now", unit], system=True, check=False)


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

"""``ronda service install|uninstall|add|remove|list``: Ronda as a systemd service.

Only argparse wiring and the handler; the installer (``camera.service.install``) loads when it
runs, so ``ronda`` starts fast and ``sudo python3 -m camera.service install`` needs nothing
beyond the standard library on a fresh Pi.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from camera.arguments import AddCommand, count

if TYPE_CHECKING:
    from camera.service.install import Installer


def register(add: AddCommand) -> None:
    """Called by ``camera.cli.ronda`` (and ``camera.service.__main__``) with its
    ``add(name, handler, help)``."""
    service = add(
        "service",
        cmd_service,
        "Install or remove Ronda as a systemd service (run with sudo).",
    )
    actions = service.add_subparsers(dest="action", required=True, metavar="ACTION")
    install = actions.add_parser(
        "install",
        help="create the ronda user and venv, install Ronda, its models, config and unit, "
        "enable and start it",
    )
    install.add_argument("--spec", default=None, help="what pip installs (default: this checkout)")
    install.add_argument(
        "--source",
        type=Path,
        default=None,
        help="the Ronda checkout with systemd/, config/, "
        "models/ (default: the one this command runs from)",
    )
    install.add_argument(
        "--python",
        default=None,
        help="interpreter for the venv (default: the system python "
        "this command runs on, which must see python3-picamera2)",
    )
    install.add_argument(
        "--pip-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="extra argument for pip install (repeatable), e.g. --pip-arg=--no-index",
    )
    install.add_argument(
        "--lock",
        type=Path,
        default=None,
        metavar="FILE",
        help="the hashed requirements to install (default: requirements/runtime.txt of the "
        "checkout, the versions the tests ran)",
    )
    install.add_argument(
        "--unlocked",
        action="store_true",
        help="ignore the lock: the newest releases pyproject.toml allows (untested)",
    )
    install.add_argument(
        "--no-start", action="store_true", help="enable the service but do not (re)start it"
    )
    install.add_argument(
        "--no-apt",
        action="store_true",
        help="do not apt-install what an AI Camera or a Hailo found here needs "
        "(imx500-all, hailo-all)",
    )
    uninstall = actions.add_parser(
        "uninstall",
        help="stop, disable and remove the service and its venv; keeps /etc/ronda and "
        "/var/lib/ronda unless --purge",
    )
    uninstall.add_argument(
        "--purge",
        action="store_true",
        help="also remove /etc/ronda, /var/lib/ronda (events, thumbnails) and the ronda user",
    )
    add_camera = actions.add_parser(
        "add",
        help="one more camera on this Pi: /etc/ronda/NAME.yaml (same broker, next free web "
        "port) and ronda@NAME.service enabled and started",
    )
    add_camera.add_argument("name", help="the camera's name (camera.name, the unit's instance)")
    add_camera.add_argument(
        "--uri",
        default="picamera2",
        help="its source.uri: picamera2, a device index or path, an RTSP URL (default picamera2)",
    )
    add_camera.add_argument(
        "--web-port", type=count(1, 65535), default=None, help="default: the next free one"
    )
    remove_camera = actions.add_parser(
        "remove",
        help="stop and disable ronda@NAME; keeps its config and state unless --purge",
    )
    remove_camera.add_argument("name")
    remove_camera.add_argument(
        "--purge", action="store_true", help="also remove /etc/ronda/NAME.yaml and its state"
    )
    listing = actions.add_parser("list", help="the cameras installed on this machine")
    for parser in (install, uninstall, add_camera, remove_camera, listing):
        parser.add_argument(
            "--dry-run", action="store_true", help="print every step, change nothing"
        )
        parser.add_argument(
            "--root",
            type=Path,
            default=None,
            metavar="PREFIX",
            help="install under PREFIX instead of /; user and systemctl steps are skipped",
        )


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def cmd_service(args: argparse.Namespace) -> int:
    import os

    from camera.service.install import Installer, InstallError, find_source, run_steps

    root = args.root or Path("/")
    if args.action == "list":
        return list_cameras(Installer(source=Path("."), root=root), args.root is None)
    try:
        if args.root is None and not args.dry_run and os.geteuid() != 0:
            raise InstallError(f"ronda service {args.action} changes the system: run it with sudo")
        if args.action == "install":
            installer = Installer(
                source=find_source(args.source),
                root=root,
                python=args.python,
                spec=args.spec,
                pip_args=args.pip_arg,
                start=not args.no_start,
                lock=args.lock,
                locked=not args.unlocked,
                apt=not args.no_apt,
            )
            steps = installer.install_steps()
        elif args.action == "add":
            installer = Installer(source=_checkout_or_none(find_source), root=root)
            steps = installer.add_camera_steps(args.name, args.uri, args.web_port)
        elif args.action == "remove":
            installer = Installer(source=Path("."), root=root)
            steps = installer.remove_camera_steps(args.name, purge=args.purge)
        else:
            installer = Installer(source=Path("."), root=root)
            steps = installer.uninstall_steps(purge=args.purge)
        run_steps(steps, dry_run=args.dry_run, skip_system=args.root is not None, out=_out)
    except InstallError as error:
        print(f"ronda service {args.action}: {error}", file=sys.stderr)
        return 1
    if not args.dry_run and args.action == "install":
        _out("done: follow it with `journalctl -u ronda -f`; check it with `ronda doctor`")
    return 0


def _checkout_or_none(find: Callable[[], Path]) -> Path:
    """The checkout this command runs from, or a path without one (the installed ``ronda``):
    ``add`` then uses the template unit ``install`` put in place."""
    from camera.service.install import InstallError

    try:
        return find()
    except InstallError:
        return Path("/nonexistent")


def list_cameras(installer: Installer, live: bool) -> int:
    """One line per camera: name, unit, config, state (and the unit's state on a live system)."""
    from camera.service.layout import unit_name
    from camera.service.units import unit_state

    cameras = installer.cameras()
    if not cameras:
        _out("no camera installed (sudo python3 -m camera service install)")
    for name, config, state in cameras:
        unit = unit_name(name)
        running = f"  {unit_state(unit)}" if live else ""
        _out(f"{name:<16} {unit + '.service':<28} {config}  {state}{running}")
    return 0

"""The CLI commands of the service stage: ``service install|uninstall``, ``doctor``, ``status``.

Only argparse wiring lives here; each handler imports its module when it runs, so ``ronda``
starts fast and ``sudo python3 -m camera service install`` needs nothing beyond the standard
library on a fresh Pi.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from camera.arguments import AddCommand, count, seconds


def register(add: AddCommand) -> None:
    """Called by ``camera.cli`` with its ``add(name, handler, help)``."""
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
        "--no-start", action="store_true", help="enable the service but do not (re)start it"
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
    for parser in (install, uninstall):
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

    doctor = add(
        "doctor",
        cmd_doctor,
        "Check config, models, runtime speed, camera, broker, sensors and disk; one line each.",
    )
    doctor.add_argument(
        "--frame-timeout",
        type=seconds(0, 600),
        default=20.0,
        metavar="S",
        help="how long to wait for the first camera frame (default 20 s)",
    )
    doctor.add_argument(
        "--skip",
        action="append",
        default=[],
        metavar="CHECK",
        help="skip a check (camera, broker, ...), e.g. while the service holds the camera",
    )
    status = add(
        "status", cmd_status, "Show the service state, recent events, the outbox and last stats."
    )
    status.add_argument(
        "--limit", type=count(1, 1000), default=5, help="recent events to show (default 5)"
    )
    status.add_argument(
        "--timeout",
        type=seconds(0, 600),
        default=3.0,
        metavar="S",
        help="how long to wait for the retained stats on the broker (default 3 s)",
    )


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def cmd_service(args: argparse.Namespace) -> int:
    import os

    from camera.service.install import Installer, InstallError, find_source, run_steps

    root = args.root or Path("/")
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
            )
            steps = installer.install_steps()
        else:
            installer = Installer(source=Path("."), root=root)
            steps = installer.uninstall_steps(purge=args.purge)
        run_steps(steps, dry_run=args.dry_run, skip_system=args.root is not None, out=_out)
    except InstallError as error:
        print(f"ronda service {args.action}: {error}", file=sys.stderr)  # noqa: T201
        return 1
    if not args.dry_run and args.action == "install":
        _out("done: follow it with `journalctl -u ronda -f`; check it with `ronda doctor`")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from camera.service.doctor import run_doctor

    return run_doctor(args, _out)


def cmd_status(args: argparse.Namespace) -> int:
    from camera.service.status import run_status

    return run_status(args, _out)

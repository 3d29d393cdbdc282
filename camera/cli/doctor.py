"""``ronda doctor``: is this camera able to work?  One line per check, a fix for each failure.

Only argparse wiring and the handler; the checks (``camera.cli.doctor_checks``) load the stages
they exercise when the command runs.
"""

from __future__ import annotations

import argparse
import sys

from camera.arguments import AddCommand, seconds
from camera.cli.startup import add_camera_option, camera_config


def register(add: AddCommand) -> None:
    """Called by ``camera.cli.ronda`` with its ``add(name, handler, help)``."""
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
    add_camera_option(doctor)


def cmd_doctor(args: argparse.Namespace) -> int:
    from camera.cli.doctor_checks import run_doctor

    if (refused := camera_config(args)) is not None:
        return refused
    return run_doctor(args, _out)


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()

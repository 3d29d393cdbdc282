"""What every command does first: read its configuration and set up logging.

Two ways to find the state directory, each command keeping the one it always had:

- ``load``: the file's ``store.path`` (or ``--state-dir``) as it stands: ``run``, ``replay``,
  ``demo``, ``events``, ``flush``, ``models``, ``clip``, ``eval``;
- ``load_service_config``: the directory the *installed service* uses, for the commands an
  owner runs from a shell beside it (``doctor``, ``status``, ``outbox``, ``web``).

A file or directory the system refuses on the way (an unreadable ``$HOME`` while the default
locations are searched) ends the command with one line, through ``camera.cli.failures``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the configuration loads every stage's section: only when a command runs
    from camera.config import RondaConfig


def load(args: argparse.Namespace) -> tuple[RondaConfig, Path | None]:
    """``--config`` (or the default search), with ``--state-dir`` over ``store.path``."""
    from camera.config import load_config

    config, path = load_config(args.config)
    if getattr(args, "state_dir", None):
        store = config.store.model_copy(update={"path": args.state_dir})
        config = config.model_copy(update={"store": store})
    return config, path


def load_service_config(
    config_path: Path | None, state_dir: Path | None = None
) -> tuple[RondaConfig, Path | None]:
    """Load the config (``--config`` or the default search) with ``store.path`` pointing at
    the state directory the service uses (see ``service_state_dir``), or ``state_dir``."""
    from camera.config import load_config
    from camera.service.layout import service_state_dir

    config, path = load_config(config_path)
    state = state_dir or service_state_dir(config.store.directory(), config.store.path, path)
    if state != config.store.directory():
        store = config.store.model_copy(update={"path": state})
        config = config.model_copy(update={"store": store})
    return config, path


def setup_logging(level: str, quiet: bool = False, verbose: bool = False) -> None:
    """Log lines on stderr (``camera.console``): ``quiet`` warnings only, ``verbose`` DEBUG."""
    from camera.console import setup_logging as setup

    setup(level, quiet=quiet, verbose=verbose)


def add_camera_option(parser: argparse.ArgumentParser) -> None:
    """``--camera NAME`` of the commands that look at an installed camera (doctor, status)."""
    parser.add_argument(
        "--camera",
        default=None,
        metavar="NAME",
        help="a camera added with `ronda service add NAME`: its /etc/ronda/NAME.yaml, its "
        "state and its unit ronda@NAME (default: the single camera, ronda.yaml)",
    )


def camera_config(args: argparse.Namespace) -> int | None:
    """``--camera NAME``: its config file, unless ``--config`` names one; exit code 2 for a
    name no camera can have."""
    from camera.service.install import InstallError, check_camera_name
    from camera.service.layout import SERVICE, Layout

    if args.camera is None or args.camera == SERVICE:
        return None
    try:
        check_camera_name(args.camera)
    except InstallError as error:
        print(f"ronda {args.command}: --camera: {error}", file=sys.stderr)
        return 2
    if args.config is None:
        args.config = Layout().camera_config(args.camera)
    return None


@contextmanager
def quiet_logs() -> Iterator[None]:
    """For commands that report problems themselves (``doctor``, ``status``): the stages' own
    error logs (the link's "refused ...; retrying with backoff") would repeat them."""
    logging.disable(logging.ERROR)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)

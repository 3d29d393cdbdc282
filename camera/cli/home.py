"""``ronda home`` (one page for every camera, fed by the broker) and ``ronda home passwd``.

Only argparse wiring and the handlers; the page and its broker client load when needed.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from camera.arguments import AddCommand
from camera.cli.startup import setup_logging
from camera.cli.web import add_page_arguments

if TYPE_CHECKING:
    from camera.home.settings import HomeFile

DEFAULT_CONFIG = Path("/etc/ronda/home.yaml")


def register(add: AddCommand) -> None:
    """Called by ``camera.cli.ronda`` with its ``add(name, handler, help)``."""
    home = add(
        "home",
        cmd_home,
        "Serve one page for every camera on the broker (state, snapshots, one timeline, "
        "arm/disarm/snooze all); `ronda home passwd` sets its password.",
    )
    add_page_arguments(home, "set the home page's password (an argon2id hash in <state dir>/home)")


def cmd_home(args: argparse.Namespace) -> int:
    from camera.cli.web import set_password
    from camera.home.service import home_state_dir

    config = home_config(args.config, args.state_dir)
    if args.action == "passwd":
        return set_password(home_state_dir(config), args.stdin, "ronda home passwd", "ronda-home")
    return serve(config, args.port, getattr(args, "verbose", False))


def home_config(given: Path | None, state_dir: Path | None) -> HomeFile:
    """``--config``, else ``$RONDA_CONFIG``, else ``/etc/ronda/home.yaml`` when it exists, else
    the defaults (a broker on localhost)."""
    from camera.home.settings import HomeFile, load_home_config

    path = given or (Path(os.environ["RONDA_CONFIG"]) if os.environ.get("RONDA_CONFIG") else None)
    if path is None and DEFAULT_CONFIG.is_file():
        path = DEFAULT_CONFIG
    if path is not None:
        return load_home_config(path, state_dir)
    config = HomeFile()
    if state_dir is not None:
        config = config.model_copy(
            update={"store": config.store.model_copy(update={"path": state_dir})}
        )
    return config


def serve(config: HomeFile, port: int | None, verbose: bool) -> int:
    import signal
    import threading

    from camera.home.service import Home, HomeError
    from camera.site.server import WebError

    setup_logging(config.logging.level, verbose=verbose)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        home = Home(config, port)
        home.start()
    except (HomeError, WebError) as error:
        sys.stderr.write(f"ronda: {error}\n")
        return 1
    sys.stdout.write(
        f"home page for {', '.join(config.home.cameras)} on {config.mqtt.host}:"
        f"{config.mqtt.port} at {home.server.url} (Ctrl-C stops)\n"
    )
    sys.stdout.flush()
    stop.wait()
    home.close()
    return 0

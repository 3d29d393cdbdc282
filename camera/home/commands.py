"""``ronda home`` (one page for every camera, fed by the broker) and ``ronda home passwd``.

Only argparse wiring and the handlers; the page and its broker client load when needed.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from camera.arguments import AddCommand, count, path

if TYPE_CHECKING:
    from camera.config import RondaConfig


def register(add: AddCommand) -> None:
    """Called by ``camera.cli`` with its ``add(name, handler, help)``."""
    home = add(
        "home",
        cmd_home,
        "Serve one page for every camera on the broker (state, snapshots, one timeline, "
        "arm/disarm/snooze all); `ronda home passwd` sets its password.",
    )
    home.add_argument("--port", type=count(1, 65535), default=None, help="override web.port")
    actions = home.add_subparsers(dest="action", required=False, metavar="ACTION")
    passwd = actions.add_parser(
        "passwd", help="set the home page's password (an argon2id hash in <state dir>/home)"
    )
    passwd.add_argument("--config", type=path, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    passwd.add_argument("--state-dir", type=path, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    passwd.add_argument(
        "--stdin",
        action="store_true",
        help="read the password from the first line of standard input (scripts)",
    )


def cmd_home(args: argparse.Namespace) -> int:
    from camera.home.service import home_state_dir
    from camera.service.settings import load_service_config
    from camera.web.commands import set_password

    config, _ = load_service_config(args.config, args.state_dir)
    if args.action == "passwd":
        return set_password(home_state_dir(config), args.stdin, "ronda home passwd", "ronda-home")
    return serve(config, args.port, getattr(args, "verbose", False))


def serve(config: RondaConfig, port: int | None, verbose: bool) -> int:
    import signal
    import threading

    from camera.console import setup_logging
    from camera.home.service import Home
    from camera.web.server import WebError

    setup_logging(config.logging.level, verbose=verbose)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    home = Home(config, port)
    try:
        home.start()
    except WebError as error:
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

"""``ronda web`` (browse a state directory) and ``ronda web passwd`` (set the page's password).

Only argparse wiring and the two handlers; the server loads when it is needed.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from camera.arguments import AddCommand, count, path
from camera.cli.startup import setup_logging

if TYPE_CHECKING:
    from camera.config import RondaConfig


def register(add: AddCommand) -> None:
    """Called by ``camera.cli.ronda`` with its ``add(name, handler, help)``."""
    web = add(
        "web",
        cmd_web,
        "Serve the web page over the state directory with no camera running (events, "
        "masks and zones, status); `ronda web passwd` sets its password.",
    )
    add_page_arguments(
        web, "set the page's password (stored as an argon2id hash in the state directory)"
    )


def add_page_arguments(page: argparse.ArgumentParser, passwd_help: str) -> None:
    """``--port`` and the ``passwd`` action of a command that serves a page (``ronda web``,
    ``ronda home``)."""
    page.add_argument("--port", type=count(1, 65535), default=None, help="override web.port")
    actions = page.add_subparsers(dest="action", required=False, metavar="ACTION")
    passwd = actions.add_parser("passwd", help=passwd_help)
    # Also accepted after the action (``ronda web passwd --config X``); SUPPRESS keeps the
    # value given before it when they are not repeated here.
    passwd.add_argument("--config", type=path, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    passwd.add_argument("--state-dir", type=path, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    passwd.add_argument(
        "--stdin",
        action="store_true",
        help="read the password from the first line of standard input (scripts)",
    )


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _err(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def cmd_web(args: argparse.Namespace) -> int:
    from camera.cli.startup import load_service_config

    config, path = load_service_config(args.config, args.state_dir)
    if args.action == "passwd":
        return set_password(config.store.directory(), args.stdin)
    return serve(config, path, args.port, getattr(args, "verbose", False))


def set_password(
    state_dir: Path, from_stdin: bool, command: str = "ronda web passwd", restart: str = "ronda"
) -> int:
    from camera.site.auth import PasswordError, PasswordFile

    passwords = PasswordFile(state_dir)
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("New web password: ")
        if getpass.getpass("Again: ") != password:
            _err(f"{command}: the two passwords differ; nothing changed")
            return 2
    try:
        passwords.set(password)
    except PasswordError as error:
        _err(f"{command}: {error}; nothing changed")
        return 2
    _out(
        f"password set ({passwords.path}); a running page accepts it at once; restart it "
        f"(sudo systemctl restart {restart}) if it listened on localhost only until now"
    )
    return 0


def serve(config: RondaConfig, path: Path | None, port: int | None, verbose: bool) -> int:
    import signal
    import threading

    from camera.web.server import WebError
    from camera.web.service import browse

    setup_logging(config.logging.level, verbose=verbose)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        server = browse(config, path, port)
    except WebError as error:
        _err(f"ronda: {error}")
        return 1
    _out(f"browsing {config.store.directory()} at {server.url} (Ctrl-C stops)")
    stop.wait()
    server.stop()
    return 0

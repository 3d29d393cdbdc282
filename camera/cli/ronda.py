"""The ``ronda`` parser and ``main``: the options every command shares, every command's
``register`` in the order ``ronda --help`` lists them, and the one place a failure becomes a
line (exit codes in ``camera.cli``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from types import ModuleType

from camera import __version__
from camera.arguments import OneLineParser, path
from camera.cli import (
    clip,
    demo,
    doctor,
    events,
    flush,
    home,
    models,
    outbox,
    replay,
    run,
    service,
    status,
    web,
)
from camera.cli import eval as evaluate

EXIT_OK = 0

COMMANDS: tuple[ModuleType, ...] = (
    *(run, replay, demo, events, flush, models, service, doctor, status),
    *(web, outbox, clip, evaluate, home),
)
"""Each module's ``register(add)``, in the order of ``ronda --help``."""


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="ronda",
        description="Ronda: an on-device person/pet security camera with MQTT alerts.",
    )
    parser.add_argument("--version", action="version", version=f"ronda {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(
        name: str, handler: Callable[[argparse.Namespace], int], help_text: str
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument(
            "--config",
            type=path,
            default=None,
            help="YAML configuration file (default: "
            "$RONDA_CONFIG, /etc/ronda/ronda.yaml, ~/.config/ronda/ronda.yaml, built-ins)",
        )
        sub.add_argument(
            "--state-dir",
            type=path,
            default=None,
            help="override store.path (event store, outbox, thumbnails)",
        )
        sub.add_argument(
            "--verbose",
            action="store_true",
            help="debug logging, including the TFLite runtime's own messages",
        )
        sub.set_defaults(handler=handler)
        return sub

    for command in COMMANDS:
        command.register(add)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        return EXIT_OK
    except Exception as error:
        # Imported here, not at the top: `ronda service install` must run on a bare Python.
        from camera.cli.failures import one_line

        failure = one_line(error)
        if failure is None:
            raise
        line, code = failure
        print(f"ronda: {line}", file=sys.stderr)
        return code

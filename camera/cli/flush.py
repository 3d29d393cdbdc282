"""``ronda flush``: deliver the alerts queued on disk (after a crash or an outage) and exit."""

from __future__ import annotations

import argparse
import sys

from camera.arguments import AddCommand, seconds
from camera.cli.startup import load, setup_logging
from camera.shutdown import Shutdown

EXIT_OK, EXIT_UNDELIVERED = 0, 3


def register(add: AddCommand) -> None:
    """Called by ``camera.cli.ronda`` with its ``add(name, handler, help)``."""
    flush = add(
        "flush",
        cmd_flush,
        "Deliver the alerts queued on disk (after a crash or an outage) to the broker and exit.",
    )
    flush.add_argument(
        "--timeout",
        type=seconds(0, 86_400),
        default=60.0,
        help="seconds to wait for the broker (default 60; a signal stops the wait at once)",
    )


def cmd_flush(args: argparse.Namespace) -> int:
    from camera.mqtt import Topics
    from camera.mqtt.flush import flush_outbox
    from camera.store import DATABASE_NAME, Database, Outbox

    config, _ = load(args)
    setup_logging(config.logging.level, verbose=args.verbose)
    database = Database(config.store.directory() / DATABASE_NAME)
    shutdown = Shutdown(first_abandons=True).install()  # nothing to stop but the wait itself
    try:
        result = flush_outbox(
            config.mqtt,
            Outbox(database, config.mqtt.outbox),
            topics=Topics(config.topic_prefix),
            client_id=config.client_id,
            camera=config.camera.name,
            timeout=args.timeout,
            shutdown=shutdown,
        )
    finally:
        database.close()
    print(f"delivered {result.delivered} queued message(s); {result.left} left")
    if result.dead_letters:
        print(
            f"{result.dead_letters} message(s) could not be delivered and are kept as dead "
            "letters: see `ronda outbox list`",
            file=sys.stderr,
        )
    if result.left:
        reason = result.error or "broker did not acknowledge in time"
        if shutdown.abandoned.is_set():
            reason = "stopped by a signal"
        print(f"ronda: {result.left} alert message(s) are still queued ({reason})", file=sys.stderr)
        return EXIT_UNDELIVERED
    return EXIT_OK

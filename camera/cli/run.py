"""``ronda run``: watch the configured live camera until SIGINT/SIGTERM (the service's command).

Also how a command that ran the pipeline ends (``report_left``): alerts still queued on disk
(exit 3), dead letters named.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import TYPE_CHECKING

from camera import __version__
from camera.arguments import AddCommand
from camera.cli.startup import load, setup_logging
from camera.shutdown import Shutdown

if TYPE_CHECKING:  # the heavy modules load only for the command that needs them
    from camera.app import Runtime

EXIT_OK, EXIT_UNDELIVERED = 0, 3

log = logging.getLogger("ronda")


def register(add: AddCommand) -> None:
    """Called by ``camera.cli.ronda`` with its ``add(name, handler, help)``."""
    add("run", cmd_run, "Watch the configured live camera until SIGINT/SIGTERM.")


def cmd_run(args: argparse.Namespace) -> int:
    from camera.app import RunOptions, Runtime
    from camera.service.monitor import ServiceMonitor
    from camera.sources import open_source
    from camera.sources.factory import refuse_fifo
    from camera.web.service import attach_web

    config, path = load(args)
    setup_logging(config.logging.level, verbose=args.verbose)
    refuse_fifo(config.source.uri)
    log.info("ronda %s starting (config %s)", __version__, path or "built-in defaults")
    # Under systemd: READY at the first processed frame, WATCHDOG from the frame loop only.
    monitor = ServiceMonitor.from_environment()
    # The camera first (picamera2 importable, the device there, the URL a URL): a missing
    # camera is said at once, not after the models are loaded and timed.
    source = open_source(config.source, config.motion.resolve().height)
    monitor.status("loading the detector")
    shutdown = Shutdown()
    try:
        runtime = Runtime(
            config,
            RunOptions(hooks=[monitor], config_path=path, shutdown=shutdown, live_camera=True),
        )
    except BaseException:
        source.close()
        raise
    monitor.attach(runtime.pipeline)
    network = getattr(runtime.detector, "network", None)
    if network is not None:  # the AI Camera: its firmware upload extends the start, in STATUS
        network.listeners.append(monitor.camera_waiting)
    web = attach_web(runtime, path)
    shutdown.install()
    try:
        monitor.stop_on_signals(source)
        monitor.status(f"waiting for the first frame from {source.name}")
        runtime.run_source(source, shutdown.stop)
    finally:
        monitor.stopping()
        if web is not None:
            web.stop()
        left = runtime.close()
    return report_left(runtime, left)


def report_left(runtime: Runtime, left: int) -> int:
    if runtime.dead_letters:
        print(
            f"{runtime.dead_letters} message(s) could not be delivered and are kept as dead "
            "letters: see `ronda outbox list`",
            file=sys.stderr,
        )
    if left and runtime.link is not None:
        reason = runtime.link.undelivered_reason() or "broker did not acknowledge in time"
        print(
            f"ronda: {left} alert message(s) are still queued in {runtime.state_dir} "
            f"({reason}); they will be delivered when Ronda next reaches the broker.",
            file=sys.stderr,
        )
        return EXIT_UNDELIVERED
    return EXIT_OK

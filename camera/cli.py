"""The ``ronda`` command line.

Exit codes: 0 success; 1 a runtime failure (unreadable video, missing model, dead state
directory); 2 a bad configuration or command line; 3 finished, but alerts are still queued on
disk because the broker could not be reached (they are delivered by the next run).
Every failure is one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from camera import __version__
from camera.arguments import OneLineParser, count, path, seconds
from camera.shutdown import Shutdown

if TYPE_CHECKING:  # the heavy modules load only for the command that needs them
    from camera.app import Runtime
    from camera.config import RondaConfig
    from camera.events import EventUpdate

EXIT_OK, EXIT_FAILURE, EXIT_CONFIG, EXIT_UNDELIVERED = 0, 1, 2, 3

log = logging.getLogger("ronda")


# -- helpers -------------------------------------------------------------------------------------
def _setup_logging(level: str, quiet: bool = False, verbose: bool = False) -> None:
    from camera.console import setup_logging

    setup_logging(level, quiet=quiet, verbose=verbose)


def _load(args: argparse.Namespace) -> tuple[RondaConfig, Path | None]:
    from camera.config import load_config

    config, path = load_config(args.config)
    if getattr(args, "state_dir", None):
        store = config.store.model_copy(update={"path": args.state_dir})
        config = config.model_copy(update={"store": store})
    return config, path


class ConsoleSink:
    """``ronda demo`` prints every alert as it happens."""

    def emit(self, update: EventUpdate, thumbnail: bytes | None) -> None:
        size = f", thumbnail {len(thumbnail) // 1024} KB" if thumbnail else ""
        zones = f", zones {','.join(update.zones)}" if update.zones else ""
        quiet = "" if update.alert else " (stored, no alert: outside its alert zones)"
        print(
            f"  t={update.frame_time:6.1f}s  {update.type:<6} {update.label:<6} "
            f"({update.subclass}) score {update.score:.2f} id {update.id}{size}{zones}{quiet}"
        )

    def close(self) -> None:
        pass


# -- commands ------------------------------------------------------------------------------------
def cmd_replay(args: argparse.Namespace) -> int:
    from camera.app import RunOptions, Runtime, replay_files
    from camera.console import ProgressBar
    from camera.sources import open_replay

    config, _ = _load(args)
    _setup_logging(config.logging.level, quiet=args.quiet, verbose=args.verbose)
    sources = [open_replay(Path(p), realtime=args.realtime) for p in args.videos]
    total = sum(s.frame_count for s in sources)
    shutdown = Shutdown()
    options = RunOptions(use_mqtt=not args.no_mqtt, jsonl=args.events_jsonl, shutdown=shutdown)
    runtime = Runtime(config, options)
    shutdown.install()
    try:
        with ProgressBar(total) as progress:
            replay_files(runtime, sources, shutdown.stop, progress)
    finally:
        left = runtime.close()
    print(runtime.pipeline.stats.summary())
    if runtime.jsonl is not None and runtime.jsonl.failure is not None:
        print(f"ronda: {runtime.jsonl.failure}", file=sys.stderr)
        return EXIT_FAILURE
    return _report_left(runtime, left)


def _report_left(runtime: Runtime, left: int) -> int:
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


def cmd_run(args: argparse.Namespace) -> int:
    from camera.app import RunOptions, Runtime
    from camera.service.monitor import ServiceMonitor
    from camera.sources import open_source
    from camera.sources.factory import refuse_fifo
    from camera.web.service import attach_web

    config, path = _load(args)
    _setup_logging(config.logging.level, verbose=args.verbose)
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
    return _report_left(runtime, left)


def cmd_demo(args: argparse.Namespace) -> int:
    from camera.app import RunOptions, Runtime, replay_files
    from camera.demo import build_scene
    from camera.sources import open_replay

    config, _ = _load(args)
    _setup_logging(config.logging.level, quiet=True)
    folder = build_scene(config.store.directory() / "demo-scene")
    print(f"Ronda demo: a person, then a cat, walk through a room ({folder}).")
    print("Alerts as they happen:")
    shutdown = Shutdown()
    options = RunOptions(
        use_mqtt=False, extra_sinks=[ConsoleSink()], use_governor=False, shutdown=shutdown
    )
    runtime = Runtime(config, options)
    shutdown.install()
    try:
        replay_files(runtime, [open_replay(folder)], shutdown.stop)
    finally:
        runtime.close()
    print(runtime.pipeline.stats.summary())
    print(f"Stored in {runtime.state_dir}; list them with: ronda events")
    return EXIT_OK


def cmd_events(args: argparse.Namespace) -> int:
    from camera.app import DATABASE_NAME
    from camera.store import Database, EventStore

    config, _ = _load(args)
    database_path = config.store.directory() / DATABASE_NAME
    if not database_path.exists():
        print(f"no events yet ({database_path} does not exist)")
        return EXIT_OK
    database = Database(database_path, readonly=True)
    events = EventStore(database, config.store).recent(args.limit)
    if not events:
        print("no events yet")
    for event in events:
        end = f"{event.end_time:.1f}" if event.end_time is not None else "open"
        kind = "motion-only" if event.motion_only else event.subclass
        clip = ""
        if event.clip is not None:  # one line per event, the clip at its end
            ref = event.clip
            clip = (
                f"  clip {ref.file} ({ref.duration_s or 0:.1f} s, "
                f"{(ref.size_bytes or 0) / 1e6:.1f} MB; event at {ref.offset_s:.1f} s)"
            )
        zones = f"  zones {','.join(event.zones)}" if event.zones else ""
        quiet = "  (stored, no alert)" if not event.alerted else ""
        print(
            f"{event.id}  {event.label:<6} ({kind}) score {event.score:.2f}  "
            f"{event.start_time:.1f} -> {end}  {event.source}  {event.thumbnail or ''}"
            f"{zones}{quiet}{clip}"
        )
    database.close()
    return EXIT_OK


def cmd_flush(args: argparse.Namespace) -> int:
    from camera.app import DATABASE_NAME
    from camera.mqtt import Topics
    from camera.mqtt.flush import flush_outbox
    from camera.store import Database, Outbox

    config, _ = _load(args)
    _setup_logging(config.logging.level, verbose=args.verbose)
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


def cmd_models(args: argparse.Namespace) -> int:
    from camera.detect.catalog import catalog, choice_lines
    from camera.detect.report import models_lines

    config, _ = _load(args)
    detector = config.detector
    for line in models_lines(detector, config.source.pi_camera()):
        print(line)
    entries = catalog(detector.manifest, runs=args.runs, threads=detector.threads)
    print(
        f"{'variant':<24} {'precision':<9} {'input':>5} {'size':>8}  {'sha256':<6} "
        f"{'backend':<15} latency"
    )
    failed = False
    for entry in entries:
        latency = f"{entry.median_ms:.1f} ms" if entry.median_ms is not None else "-"
        check = "ok" if entry.sha256_ok else "BAD"
        print(
            f"{entry.name:<24} {entry.precision:<9} {entry.input_size:>5} "
            f"{entry.size / 1e6:>5.1f} MB  {check:<6} {entry.backend or '-':<15} {latency}"
        )
        if entry.error:
            failed = True
            print(f"  {entry.error}", file=sys.stderr)
    print(f"latency: median of {args.runs} runs, {detector.threads} thread(s), one crop")
    for line in choice_lines(entries, detector.variant, detector.budget_ms):
        print(line)
    return EXIT_FAILURE if failed else EXIT_OK


# -- parser --------------------------------------------------------------------------------------
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

    add("run", cmd_run, "Watch the configured live camera until SIGINT/SIGTERM.")

    replay = add(
        "replay",
        cmd_replay,
        "Run the full pipeline on recorded files (mp4, avi, gif or a folder of numbered "
        "images), as fast as the CPU allows; timestamps come from the video's timeline.",
    )
    replay.add_argument(
        "videos", nargs="+", type=path, metavar="VIDEO", help="files or image folders"
    )
    replay.add_argument(
        "--realtime",
        action="store_true",
        help="play like a live camera: at the video's own frame rate, dropping the frames the "
        "pipeline is too busy for (frame age and the load level then mean what they do live)",
    )
    replay.add_argument(
        "--events-jsonl",
        type=path,
        default=None,
        metavar="FILE",
        help="append every event update as one JSON line (the MQTT payload)",
    )
    replay.add_argument("--no-mqtt", action="store_true", help="do not connect to the broker")
    replay.add_argument("--quiet", action="store_true", help="only warnings and the summary")

    add(
        "demo",
        cmd_demo,
        "No camera, no broker: replay a scene built from real photos of a person and a cat, "
        "print the alerts and store them locally.",
    )

    events = add("events", cmd_events, "List recent events from the local store.")
    events.add_argument(
        "--limit", type=count(1, 1_000_000), default=20, help="how many (default 20)"
    )

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

    models = add(
        "models", cmd_models, "List the model variants with size, checksum and latency here."
    )
    models.add_argument(
        "--runs", type=count(1, 1000), default=20, help="timed inferences per variant"
    )
    _add_extensions(add)
    return parser


def _add_extensions(add: Callable[..., argparse.ArgumentParser]) -> None:
    """Commands whose modules live with what they inspect: doctor, status, service, web, outbox,
    clip, eval, home."""
    from camera.eval.commands import register as register_eval
    from camera.home.commands import register as register_home
    from camera.record.commands import register as register_clip
    from camera.service.commands import register
    from camera.service.outbox import register as register_outbox
    from camera.web.commands import register as register_web

    register(add)
    register_web(add)
    register_outbox(add)
    register_clip(add)
    register_eval(add)
    register_home(add)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        return EXIT_OK
    except Exception as error:
        # Imported here, not at the top: `ronda service install` must run on a bare Python.
        import sqlite3

        from camera.errors import USER_ERRORS, exit_code_for

        if isinstance(error, sqlite3.Error):  # the state database failed under us
            print(f"ronda: state database: {' '.join(str(error).split())}", file=sys.stderr)
            return EXIT_FAILURE
        if not isinstance(error, USER_ERRORS):
            raise
        print(f"ronda: {error}", file=sys.stderr)
        return exit_code_for(error)


if __name__ == "__main__":
    sys.exit(main())

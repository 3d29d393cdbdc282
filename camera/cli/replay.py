"""``ronda replay VIDEO...``: the full pipeline on recordings, deterministic, as fast as the CPU
allows (or at the video's own rate with ``--realtime``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from camera.arguments import AddCommand, path
from camera.cli.run import report_left
from camera.cli.startup import load, setup_logging
from camera.shutdown import Shutdown

EXIT_FAILURE = 1


def register(add: AddCommand) -> None:
    """Called by ``camera.cli.ronda`` with its ``add(name, handler, help)``."""
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


def cmd_replay(args: argparse.Namespace) -> int:
    from camera.app import RunOptions, Runtime, replay_files
    from camera.console import ProgressBar
    from camera.sources import open_replay

    config, _ = load(args)
    setup_logging(config.logging.level, quiet=args.quiet, verbose=args.verbose)
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
    return report_left(runtime, left)

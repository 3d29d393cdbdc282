"""``ronda demo``: no camera, no broker: a scene built from real photos of a person and a cat,
replayed, its alerts printed as they happen and stored locally."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from camera.arguments import AddCommand
from camera.cli.startup import load, setup_logging
from camera.shutdown import Shutdown

if TYPE_CHECKING:
    from camera.events import EventUpdate

EXIT_OK = 0


def register(add: AddCommand) -> None:
    """Called by ``camera.cli.ronda`` with its ``add(name, handler, help)``."""
    add(
        "demo",
        cmd_demo,
        "No camera, no broker: replay a scene built from real photos of a person and a cat, "
        "print the alerts and store them locally.",
    )


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


def cmd_demo(args: argparse.Namespace) -> int:
    from camera.app import RunOptions, Runtime, replay_files
    from camera.demo import build_scene
    from camera.sources import open_replay

    config, _ = load(args)
    setup_logging(config.logging.level, quiet=True)
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

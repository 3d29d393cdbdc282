"""``ronda clip ID [--out FILE]``: copy one event's clip out of the store.

Only argparse wiring and a file copy: the store says which file shows the event.  The copy is
the same browser-playable MP4 (index at the front); a clip shared by overlapping events is the
whole recording, and the event's ``offset_s`` says where in it the event starts.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from camera.arguments import AddCommand
from camera.cli.startup import load

EXIT_OK, EXIT_FAILURE = 0, 1


def register(add: AddCommand) -> None:
    """Called by ``camera.cli.ronda`` with its ``add(name, handler, help)``."""
    clip = add("clip", cmd_clip, "Copy one event's clip (an MP4) out of the local store.")
    clip.add_argument("event_id", metavar="ID", help="the event id (see `ronda events`)")
    clip.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="FILE",
        help="where to write it (default: ./<ID>.mp4; '-' writes to stdout)",
    )


def cmd_clip(args: argparse.Namespace) -> int:
    from camera.store import DATABASE_NAME, ClipStore, Database

    config, _ = load(args)
    database_path = config.store.directory() / DATABASE_NAME
    if not database_path.exists():
        return _fail(f"no events yet ({database_path} does not exist)")
    database = Database(database_path, readonly=True)
    try:
        store = ClipStore(database)
        clip = store.for_event(args.event_id)
        if clip is None:
            return _fail(
                f"event {args.event_id} has no clip (unknown id, no clip recorded for its label, "
                "still recording, or deleted by clips.retention_days / clips.max_gigabytes)"
            )
        source = store.path(clip.file)
        if str(args.out) == "-":
            with source.open("rb") as data:
                shutil.copyfileobj(data, sys.stdout.buffer)
            return EXIT_OK
        target = args.out or Path(f"{args.event_id}.mp4")
        try:
            shutil.copyfile(source, target)
        except OSError as error:
            return _fail(f"cannot write {target}: {error.strerror}")
    finally:
        database.close()
    sys.stdout.write(
        f"{target}: {clip.duration_s or 0:.1f} s, {(clip.size_bytes or 0) / 1e6:.1f} MB; "
        f"the event starts at {clip.offset_s:.1f} s\n"
    )
    return EXIT_OK


def _fail(message: str) -> int:
    sys.stderr.write(f"ronda clip: {message}\n")
    return EXIT_FAILURE

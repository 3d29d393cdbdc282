"""``ronda events``: recent events from the local store, one line each, with their clips."""

from __future__ import annotations

import argparse

from camera.arguments import AddCommand, count
from camera.cli.startup import load

EXIT_OK = 0


def register(add: AddCommand) -> None:
    """Called by ``camera.cli.ronda`` with its ``add(name, handler, help)``."""
    events = add("events", cmd_events, "List recent events from the local store.")
    events.add_argument(
        "--limit", type=count(1, 1_000_000), default=20, help="how many (default 20)"
    )


def cmd_events(args: argparse.Namespace) -> int:
    from camera.store import DATABASE_NAME, Database, EventStore

    config, _ = load(args)
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

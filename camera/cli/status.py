"""``ronda status``: what the camera is doing, from the three places that know.

- systemd: is the service up, since when, how often it restarted, and its own STATUS line
  (fps, governor level, last event; see ``camera.service.monitor``);
- the local store: recent events and the outbox (alerts not yet acknowledged by the broker);
- the broker: the last retained stats message (frame rate, inference time, temperature...).

Each part degrades to one explanatory line when its source is unavailable.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from camera.arguments import AddCommand, count, seconds
from camera.cli.startup import add_camera_option, camera_config, load_service_config, quiet_logs

if TYPE_CHECKING:  # the configuration loads when the command runs
    from camera.config import RondaConfig

Out = Callable[[str], None]


def register(add: AddCommand) -> None:
    """Called by ``camera.cli.ronda`` with its ``add(name, handler, help)``."""
    status = add(
        "status", cmd_status, "Show the service state, recent events, the outbox and last stats."
    )
    add_camera_option(status)
    status.add_argument(
        "--limit", type=count(1, 1000), default=5, help="recent events to show (default 5)"
    )
    status.add_argument(
        "--timeout",
        type=seconds(0, 600),
        default=3.0,
        metavar="S",
        help="how long to wait for the retained stats on the broker (default 3 s)",
    )


def cmd_status(args: argparse.Namespace) -> int:
    if (refused := camera_config(args)) is not None:
        return refused
    return run_status(args, _out)


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def run_status(args: argparse.Namespace, out: Out) -> int:
    from camera.service.layout import unit_name

    config, _ = load_service_config(args.config, args.state_dir)
    out(service_line(unit_name(getattr(args, "camera", None))))
    local_state(config, args.limit, out)
    with quiet_logs():
        out(retained_stats(config, args.timeout))
    return 0


def service_line(unit: str) -> str:
    from camera.service.units import unit_properties

    values = unit_properties(unit)
    if isinstance(values, str):
        return f"service   {values}"
    if values.get("LoadState") == "not-found":
        return "service   not installed (sudo python3 -m camera.service install)"
    state = f"{values.get('ActiveState', '?')} ({values.get('SubState', '?')})"
    restarts = values.get("NRestarts", "0")
    text = values.get("StatusText") or "no status yet"
    return f"service   {state}, {restarts} restart(s): {text}"


def local_state(config: RondaConfig, limit: int, out: Out) -> None:
    from camera.store import DATABASE_NAME, Database, EventStore, Outbox, local_midnight
    from camera.store.database import DamagedDatabase, DatabaseError

    state = config.store.directory()
    path = state / DATABASE_NAME
    if not path.exists():
        out(f"state     {state}: no events yet")
        return
    try:
        database = Database(path, readonly=True)
    except DamagedDatabase as error:
        out(f"state     {error}")
        return
    except DatabaseError as error:
        out(f"state     {error} (the service's files belong to the ronda user: try sudo)")
        return
    try:
        events = EventStore(database, config.store)
        outbox = Outbox(database, config.mqtt.outbox)
        out(
            f"state     {state}: {events.count()} events ({events.count_since(local_midnight())} "
            f"today), outbox {outbox.depth()} queued, {outbox.dropped()} dropped"
            + _dead_letters(outbox.dead.count())
        )
        for event in events.recent(limit):
            end = _clock(event.end_time) if event.end_time is not None else "open"
            kind = "motion-only" if event.motion_only else event.subclass
            out(
                f"  {_clock(event.start_time)} -> {end}  {event.label:<6} ({kind}) "
                f"score {event.score:.2f}  {event.id}"
            )
    finally:
        database.close()


def retained_stats(config: RondaConfig, timeout: float) -> str:
    """The retained stats message, summarised on one line."""
    from camera.mqtt.probe import fetch_retained_stats

    stats = fetch_retained_stats(config.mqtt, config.client_id, config.topic_prefix, timeout)
    if stats.payload is None:
        return f"stats     {stats.problem}"
    return f"stats     {stats.broker}: {summarise_stats(stats.payload)}"


def _detector_device(report: object) -> str:
    """`` on AI Camera (IMX500), …`` (and why an accelerator does not run) from the stats."""
    if not isinstance(report, dict) or not report.get("device"):
        return ""
    fallback = f"; not on {report['fallback']}" if report.get("fallback") else ""
    return f" on {report['device']}{fallback}"


def summarise_stats(payload: bytes) -> str:
    try:
        stats = json.loads(payload)
    except ValueError:
        return "unreadable stats message"
    age = time.time() - float(stats.get("time", time.time()))
    temperature = stats.get("soc_temp_c")
    frame_age = stats.get("frame_age_p50_ms"), stats.get("frame_age_p95_ms")
    parts = [
        f"{age:.0f} s old",
        f"{stats.get('fps', 0)} fps",
        f"frame age p50 {frame_age[0]:.0f} ms / p95 {frame_age[1]:.0f} ms"
        if None not in frame_age
        else "frame age unknown",
        f"detector {stats.get('detector_ms', 0)} ms "
        f"({stats.get('variant') or stats.get('precision')}, {stats.get('backend')})"
        + _detector_device(stats.get("detector")),
        f"governor {stats.get('governor_level') or stats.get('policy', {}).get('level')}",
        f"SoC {temperature} °C" if temperature is not None else "SoC temperature unknown",
        f"outbox {stats.get('outbox_depth', 0)}",
        f"dead letters {stats.get('dead_letters', 0)}",
    ]
    controls = stats.get("controls")
    if isinstance(controls, dict):
        parts.append(describe_controls(controls))
    clips = stats.get("clips")
    if isinstance(clips, dict):
        parts.append(
            f"clips {clips.get('mode')} ({clips.get('recorded', 0)} recorded, "
            f"{(clips.get('disk_bytes') or 0) / 1e6:.0f} MB, "
            f"{clips.get('frames_dropped', 0)} frames dropped)"
        )
    return ", ".join(parts)


def describe_controls(controls: dict[str, object]) -> str:
    """``armed, snoozed 25 min, privacy on, clips off, sensitivity medium``: the owner's controls
    as the stats report them (docs/controls.md)."""
    words = ["armed" if controls.get("armed") else "DISARMED"]
    if controls.get("snooze_minutes"):
        words.append(f"snoozed {controls['snooze_minutes']} min")
    if controls.get("privacy"):
        words.append("PRIVACY on")
    if controls.get("recording") is False:
        words.append("clips off")
    words.append(f"sensitivity {controls.get('sensitivity')}")
    return ", ".join(words)


def _dead_letters(count: int) -> str:
    return f", {count} dead letter(s) (ronda outbox list)" if count else ", no dead letters"


def _clock(epoch: float) -> str:
    return datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M:%S")

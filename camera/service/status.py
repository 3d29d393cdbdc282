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
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from camera.config import RondaConfig
from camera.service.layout import SERVICE, unit_name

Out = Callable[[str], None]
SYSTEMD_PROPERTIES = ("LoadState", "ActiveState", "SubState", "StatusText", "NRestarts")


def run_status(args: argparse.Namespace, out: Out) -> int:
    from camera.service.probe import quiet_logs
    from camera.service.settings import load_service_config

    config, _ = load_service_config(args.config, args.state_dir)
    out(service_line(unit_name(getattr(args, "camera", None))))
    local_state(config, args.limit, out)
    with quiet_logs():
        out(retained_stats(config, args.timeout))
    return 0


def unit_properties(unit: str) -> dict[str, str] | str:
    """``systemctl show`` of ``unit``, or why it could not be asked."""
    if shutil.which("systemctl") is None:
        return "unknown: no systemctl here"
    command = ["systemctl", "show", unit, *(f"--property={p}" for p in SYSTEMD_PROPERTIES)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=5, check=True)
    except (subprocess.SubprocessError, OSError) as error:
        reason = getattr(error, "stderr", "") or str(error)
        return f"unknown: systemctl show failed ({' '.join(reason.split())})"
    return dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)


def unit_state(unit: str) -> str:
    """``active (running)``, ``inactive (dead)``, ``not installed``: ``ronda service list``."""
    values = unit_properties(unit)
    if isinstance(values, str):
        return values
    if values.get("LoadState") == "not-found":
        return "not installed"
    return f"{values.get('ActiveState', '?')} ({values.get('SubState', '?')})"


def service_line(unit: str = SERVICE) -> str:
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
    from camera.app import DATABASE_NAME, local_midnight
    from camera.store import Database, EventStore, Outbox
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


@dataclass(frozen=True, slots=True)
class RetainedStats:
    """The last stats message the service left on the broker, or why there is none."""

    payload: bytes | None
    problem: str | None
    broker: str = ""


def fetch_retained_stats(config: RondaConfig, timeout: float) -> RetainedStats:
    """Subscribe to the retained stats topic and wait up to ``timeout`` for the message
    (``ronda status``, and the web page when ``ronda web`` has no camera of its own)."""
    from camera.mqtt import Topics
    from camera.service.probe import probe_link, wait_connected

    if not config.mqtt.enabled:
        return RetainedStats(None, "mqtt.enabled is false")
    received: list[bytes] = []
    arrived = threading.Event()

    def keep(payload: bytes) -> None:
        received.append(payload)
        arrived.set()

    with probe_link(config, "status") as link:
        link.subscribe(Topics(config.topic_prefix).stats, keep)
        link.start()
        if not wait_connected(link, timeout):
            return RetainedStats(None, f"broker unreachable: {link.last_error or 'timeout'}")
        if not arrived.wait(timeout):
            return RetainedStats(
                None,
                f"none retained on {link.broker} yet (published every "
                f"{config.mqtt.stats_interval_s:g} s while the service runs)",
                link.broker,
            )
        return RetainedStats(received[-1], None, link.broker)


def retained_stats(config: RondaConfig, timeout: float) -> str:
    """The retained stats message, summarised on one line."""
    stats = fetch_retained_stats(config, timeout)
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

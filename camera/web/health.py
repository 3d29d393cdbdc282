"""Health at a glance: the status page and ``/api/health`` (the same numbers as JSON).

Live (inside ``ronda run``) the numbers come from ``Runtime.stats_payload()``; when ``ronda web``
browses a state directory there is no frame loop in the process (``camera_running`` is false):
the frame numbers come from the service's last stats message retained on the broker (with its
age), and the rest from what the state directory knows (events, outbox, disk).  Building the
payload reads the database and may ask the broker, so it runs on the web's worker thread.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from aiohttp import web

from camera.controls.state import SENSITIVITIES
from camera.site.render import render
from camera.store import local_midnight
from camera.web.context import CONTEXT, WebContext

LAST_EVENTS = 5
STALL_S = 30.0
"""No frame through the loop for this long: ``ok`` is false (the systemd watchdog's span)."""
DISK_CACHE_S = 60.0
_disk_cache: dict[Path, tuple[float, int]] = {}


def system_uptime() -> float | None:
    try:
        return float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def state_bytes(state_dir: Path) -> int:
    """Bytes Ronda keeps in its state directory (events, thumbnails, clips), recounted at most
    once a minute: walking a directory of thousands of files is not free on an SD card."""
    now = time.monotonic()
    cached = _disk_cache.get(state_dir)
    if cached is not None and now - cached[0] < DISK_CACHE_S:
        return cached[1]
    total = 0
    for path in state_dir.rglob("*"):
        try:
            if path.is_file():
                total += path.stat().st_size
        except OSError:
            continue
    _disk_cache[state_dir] = (now, total)
    return total


def health_payload(context: WebContext) -> dict[str, Any]:
    stats: dict[str, Any] = dict(context.stats()) if context.stats is not None else {}
    disk = shutil.disk_usage(context.state_dir)
    governor = stats.get("governor") if isinstance(stats.get("governor"), dict) else None
    light: dict[str, Any] = stats["light"] if isinstance(stats.get("light"), dict) else {}
    night_values = context.config.night.enabled
    readings = governor.get("readings", {}) if governor else {}
    events = context.events.recent(LAST_EVENTS)
    stats_time = stats.get("time")
    frame_age = None
    if context.live is not None and context.live.last_frame is not None:
        frame_age = round(time.monotonic() - context.live.last_frame, 2)
    return {
        # A running camera is healthy while frames flow; a browsing page while it answers.
        "ok": context.live is None or (frame_age is not None and frame_age < STALL_S),
        "last_frame_s": frame_age,
        "camera": context.config.camera.name,
        "camera_running": context.live is not None,
        "stats_age_s": round(time.time() - stats_time, 1)
        if isinstance(stats_time, int | float)
        else None,
        "stats_problem": stats.get("stats_problem"),
        "time": round(time.time(), 3),
        "uptime_s": round(time.time() - context.started, 1),
        "system_uptime_s": system_uptime(),
        # Before the first frame (or detector call) a rate is unknown, not zero: "–" on the page.
        "fps": None if stats.get("frames") == 0 else stats.get("fps"),
        "frame_age_p50_ms": stats.get("frame_age_p50_ms"),
        "motion_share": None if stats.get("frames") == 0 else stats.get("motion_share"),
        "frames": stats.get("frames"),
        "motion_frames": stats.get("motion_frames"),
        "detector_calls": stats.get("detector_calls"),
        "detector_ms": None if stats.get("detector_calls") == 0 else stats.get("detector_ms"),
        "privacy": stats.get("privacy") is True,
        # day, dark or infrared (docs/motion.md#night); night values apply while not day.
        "light_state": stats.get("light_state"),
        "night": light.get("night") is True and night_values,
        "controls": stats.get("controls") if isinstance(stats.get("controls"), dict) else None,
        "precision": stats.get("precision"),
        "backend": stats.get("backend"),
        "detector": stats.get("detector") if isinstance(stats.get("detector"), dict) else None,
        "governor_level": stats.get("governor_level"),
        "policy": stats.get("policy"),
        "soc_temp_c": stats.get("soc_temp_c"),
        "throttled": readings.get("throttled"),
        "under_voltage": readings.get("under_voltage"),
        "throttle_flags": governor.get("flags") if governor else None,
        "battery_pct": stats.get("battery_pct"),
        "charging": readings.get("charging"),
        "outbox_depth": context.outbox.depth(),
        "outbox_dropped": context.outbox.dropped(),
        "dead_letters": context.outbox.dead.count(),
        "events_total": context.events.count(),
        "events_today": context.events.count_since(local_midnight()),
        "disk": {
            "path": str(context.state_dir),
            "free_bytes": disk.free,
            "total_bytes": disk.total,
            "ronda_bytes": state_bytes(context.state_dir),
        },
        "live_viewers": context.live.viewers if context.live is not None else None,
        "last_events": [
            {
                "id": e.id,
                "label": e.label,
                "score": round(e.score, 3),
                "recorded_at": e.recorded_at,
                "url": f"/events/{e.id}",
            }
            for e in events
        ],
    }


async def _health(context: WebContext) -> dict[str, Any]:
    return await asyncio.get_running_loop().run_in_executor(context.worker, health_payload, context)


async def api_health(request: web.Request) -> web.StreamResponse:
    return web.json_response(await _health(request.app[CONTEXT]))


async def status_page(request: web.Request) -> web.StreamResponse:
    context = request.app[CONTEXT]
    health = await _health(context)
    return render(
        request,
        "status.html",
        health=health,
        events=[asdict(e) for e in context.events.recent(LAST_EVENTS)],
        controls=health["controls"],
        can_change=context.controls is not None,
        control_error=request.query.get("control_error"),
        sensitivities=SENSITIVITIES,
    )

"""Events: the list (newest first, label and time filters), one event's page, its files.

Files are found by event id only: the id must look like an id (``ID_PATTERN``) before the store
is asked, the store says which file belongs to the event, and that file is served only if it
resolves to a place inside the state directory.  No part of the request becomes a path.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from pathlib import Path

from aiohttp import web

from camera.site.render import render
from camera.store import EventFilter, StoredEvent
from camera.web.context import CONTEXT, WebContext

log = logging.getLogger(__name__)

ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
PAGE_SIZE = 30


def _event(request: web.Request) -> tuple[WebContext, StoredEvent]:
    context = request.app[CONTEXT]
    event_id = request.match_info["event_id"]
    event = context.events.get(event_id) if ID_PATTERN.fullmatch(event_id) else None
    if event is None:
        raise web.HTTPNotFound(text="404: no such event\n")
    return context, event


def inside_state_dir(context: WebContext, path: Path | None) -> Path | None:
    """``path`` if it is an existing file inside the state directory, else None."""
    if path is None:
        return None
    root = context.state_dir.resolve()
    candidate = path if path.is_absolute() else root / path
    try:
        resolved = candidate.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    return resolved if resolved.is_relative_to(root) and resolved.is_file() else None


def clip_file(context: WebContext, event: StoredEvent) -> tuple[Path, float] | None:
    """The event's clip and where the event starts in it, when the store knows a finished one
    (``StoredEvent.clip``: file relative to the state directory, ``offset_s``)."""
    if event.clip is None:
        return None
    path = inside_state_dir(context, Path(event.clip.file))
    if path is None:
        return None
    return path, event.clip.offset_s


def _day(text: str | None, end: bool = False) -> float | None:
    if not text:
        return None
    try:
        day = datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        raise web.HTTPBadRequest(text="400: dates are YYYY-MM-DD\n") from None
    return (day + timedelta(days=1) if end else day).timestamp()


async def events_page(request: web.Request) -> web.StreamResponse:
    context = request.app[CONTEXT]
    labels = context.events.labels()
    label = request.query.get("label") or None
    if label is not None and label not in labels:
        label = None
    try:
        page = max(0, int(request.query.get("page", "0")))
    except ValueError:
        page = 0
    since, until = request.query.get("from") or None, request.query.get("to") or None
    query = EventFilter(
        label=label,
        since=_day(since),
        until=_day(until, end=True),
        limit=PAGE_SIZE + 1,
        offset=page * PAGE_SIZE,
    )
    found = context.events.find(query)
    return render(
        request,
        "events.html",
        events=found[:PAGE_SIZE],
        more=len(found) > PAGE_SIZE,
        page=page,
        labels=labels,
        label=label or "",
        since=since or "",
        until=until or "",
    )


async def event_page(request: web.Request) -> web.StreamResponse:
    context, event = _event(request)
    clip = clip_file(context, event)
    return render(
        request,
        "event.html",
        event=event,
        updates=context.events.updates(event.id),
        has_thumbnail=inside_state_dir(context, event.thumbnail) is not None,
        clip_offset=clip[1] if clip else None,
    )


async def thumbnail(request: web.Request) -> web.StreamResponse:
    context, event = _event(request)
    path = inside_state_dir(context, event.thumbnail)
    if path is None:
        raise web.HTTPNotFound(text="404: this event has no snapshot\n")
    return web.FileResponse(
        path, headers={"Content-Type": "image/jpeg", "Cache-Control": "private, max-age=600"}
    )


async def clip(request: web.Request) -> web.StreamResponse:
    """The MP4; aiohttp's FileResponse answers Range requests, so players can seek."""
    context, event = _event(request)
    found = clip_file(context, event)
    if found is None:
        raise web.HTTPNotFound(text="404: this event has no clip\n")
    return web.FileResponse(
        found[0], headers={"Content-Type": "video/mp4", "Cache-Control": "private, max-age=600"}
    )


async def delete_event(request: web.Request) -> web.StreamResponse:
    context, event = _event(request)
    context.events.delete(event.id)
    log.info("web: event %s deleted", event.id)
    raise web.HTTPSeeOther("/events")

"""Server-side HTML: Jinja2 templates shipped in the package, escaped by default."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from aiohttp import web
from jinja2 import Environment, PackageLoader, select_autoescape

from camera.web.context import CONTEXT

REPLAY_EPOCH_LIMIT = 1e9
"""Event times below this are seconds into a recording (replay), not wall-clock time."""


@functools.cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("camera.web", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["clock"] = clock
    env.filters["moment"] = moment
    return env


def clock(epoch: float | None) -> str:
    """Local wall-clock time of the camera."""
    if epoch is None:
        return "–"
    return datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M:%S")


def moment(seconds: float | None) -> str:
    """An event time: wall clock when live, ``t=12.3 s`` into a replayed recording."""
    if seconds is None:
        return "open"
    if seconds < REPLAY_EPOCH_LIMIT:
        return f"t={seconds:.1f} s"
    return datetime.fromtimestamp(seconds).strftime("%H:%M:%S")


def render(request: web.Request, template: str, status: int = 200, **values: Any) -> web.Response:
    from camera.web.security import SESSION

    context = request.app[CONTEXT]
    session = request.get(SESSION)
    html = (
        environment()
        .get_template(template)
        .render(
            camera=context.config.camera.name,
            csrf=session.csrf if session is not None else "",
            logged_in=session is not None,
            live=context.live is not None,
            path=request.path,
            **values,
        )
    )
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")

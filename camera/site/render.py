"""Server-side HTML: Jinja2 templates shipped in the package, escaped by default."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web
from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape

from camera.site.auth import Session

REPLAY_EPOCH_LIMIT = 1e9
"""Event times below this are seconds into a recording (replay), not wall-clock time."""


@dataclass(frozen=True)
class Frame:
    """What the frame of every page of a site shows: its name (title, header), whether there is
    a live view to link to, the templates (a site's own first, then the kit's, so the
    login page and the base layout are shared), its menu and any stylesheet of its own."""

    name: str
    live: bool
    environment: Environment
    nav: tuple[NavLink, ...] = ()
    styles: tuple[str, ...] = ()


@dataclass(frozen=True)
class NavLink:
    """One menu entry; ``wide`` is shown beside ``title`` only where there is room."""

    href: str
    title: str
    wide: str = ""

    def current(self, path: str) -> bool:
        return path == self.href or (self.href != "/" and path.startswith(self.href + "/"))


FRAME = web.AppKey("frame", Frame)
SESSION = web.RequestKey("session", Session)
"""The logged-in session of a request, set by the guard (``camera.site.security``)."""


@functools.cache
def environment(first: str | None = None) -> Environment:
    """The kit's templates (the base layout, the login page); ``first`` names a package whose
    own ``templates`` folder is searched before them (the camera's page, the home page)."""
    loaders = [PackageLoader(first, "templates")] if first else []
    env = Environment(
        loader=ChoiceLoader([*loaders, PackageLoader("camera.site", "templates")]),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["clock"] = clock
    env.filters["moment"] = moment
    env.filters["age"] = age
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


def age(seconds: float) -> str:
    """``42 s``, ``7 min``, ``3 h 5 min``, ``2 d 4 h``: how old something is, roughly."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min"
    if whole < 86400:
        return f"{whole // 3600} h {whole % 3600 // 60} min"
    return f"{whole // 86400} d {whole % 86400 // 3600} h"


def render(request: web.Request, template: str, status: int = 200, **values: Any) -> web.Response:
    frame = request.app[FRAME]
    session = request.get(SESSION)
    html = frame.environment.get_template(template).render(
        camera=frame.name,
        csrf=session.csrf if session is not None else "",
        logged_in=session is not None,
        live=frame.live,
        nav=frame.nav,
        styles=frame.styles,
        path=request.path,
        **values,
    )
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")

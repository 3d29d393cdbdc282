"""The camera's web page: its routes, and its server with the live feed wired
(``camera.site.server`` serves it, on its own thread and event loop)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from aiohttp import web

from camera.site.render import Frame, NavLink, environment
from camera.site.security import guarded_app
from camera.site.server import STATIC, SiteServer, WebError
from camera.web.blueprints import PREFIX as BLUEPRINTS
from camera.web.blueprints import blueprint
from camera.web.context import CONTEXT, WebContext
from camera.web.controls_page import change_control
from camera.web.editor import editor_page, save_areas, still
from camera.web.events_pages import (
    clip,
    delete_event,
    event_page,
    events_page,
    thumbnail,
)
from camera.web.health import api_health, status_page
from camera.web.live_pages import FRAME_SIGNAL, FrameSignal, live_page, mjpeg, snapshot

__all__ = ["STATIC", "WebError", "WebServer", "build_app"]

WEB_STATIC = Path(__file__).resolve().parent / "static"
"""The camera page's own scripts (the masks editor), beside the kit's shared ``/static``."""

log = logging.getLogger(__name__)

CAMERA_NAV = (
    NavLink("/", "Status"),
    NavLink("/live", "Live"),
    NavLink("/events", "Events"),
    NavLink("/masks", "Masks", " & zones"),
)


def build_app(context: WebContext) -> web.Application:
    frame = Frame(
        context.config.camera.name,
        context.live is not None,
        environment("camera.web"),
        nav=CAMERA_NAV,
    )
    app = guarded_app(
        context.access,
        frame,
        [
            web.get("/", status_page),
            web.get("/api/health", api_health),
            web.get("/live", live_page),
            web.get("/live.mjpg", mjpeg),
            web.get("/live.jpg", snapshot),
            web.get("/events", events_page),
            web.get("/events/{event_id}", event_page),
            web.get("/events/{event_id}/thumbnail", thumbnail),
            web.get("/events/{event_id}/clip", clip),
            web.post("/events/{event_id}/delete", delete_event),
            web.post("/controls", change_control),
            web.get("/masks", editor_page),
            web.get("/still.jpg", still),
            web.get("/favicon.ico", favicon),
            web.post("/masks", save_areas),
            web.get(BLUEPRINTS + "{name}", blueprint),
            web.static("/web-static", WEB_STATIC, follow_symlinks=False, append_version=False),
        ],
        public=(BLUEPRINTS,),
    )
    app[CONTEXT] = context
    return app


async def favicon(request: web.Request) -> web.StreamResponse:
    """Browsers ask for /favicon.ico on their first visit whatever the page links: answer it
    (the page's own icon, SVG) rather than log a 404 in every console."""
    return web.FileResponse(
        STATIC / "favicon.svg",
        headers={"Content-Type": "image/svg+xml", "Cache-Control": "max-age=86400"},
    )


class WebServer(SiteServer):
    """The camera's page: ``build_app`` over a ``WebContext``, with the live feed wired."""

    def __init__(self, context: WebContext, *, host: str | None = None, port: int | None = None):
        self.context = context
        super().__init__(
            context.config.web, password_set=context.passwords.is_set(), host=host, port=port
        )

    def make_app(self, loop: asyncio.AbstractEventLoop) -> web.Application:
        app = build_app(self.context)
        signal = FrameSignal(loop)
        app[FRAME_SIGNAL] = signal
        if self.context.live is not None:
            self.context.live.on_frame = signal.notify_threadsafe
        return app

    def stopped(self) -> None:
        if self.context.live is not None:
            self.context.live.on_frame = None
        self.context.worker.shutdown(wait=False, cancel_futures=True)

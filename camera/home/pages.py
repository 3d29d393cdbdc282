"""The home page's site: the overview, pictures from the home's store, whole-home commands.

Login, CSRF checks and the response headers come from the site kit (``camera.site.security``),
fed with this site's ``Access``; so do the login page and the base layout (the kit's templates,
in this site's frame).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from camera.home.listener import CommandError, HomeListener, parse_minutes
from camera.home.store import HomeStore
from camera.site.auth import Access
from camera.site.render import Frame, NavLink, environment, render
from camera.site.security import guarded_app

HOME_STATIC = Path(__file__).resolve().parent / "static"
LABELS = ("person", "pet")


@dataclass
class HomeSite:
    """What the handlers share."""

    name: str
    store: HomeStore
    listener: HomeListener
    timeline: int


SITE = web.AppKey("home_site", HomeSite)


def build_home_app(site: HomeSite, access: Access) -> web.Application:
    frame = Frame(
        site.name,
        False,
        environment("camera.home"),
        nav=(NavLink("/", "Every camera"),),
        styles=("/home-static/home.css",),
    )
    app = guarded_app(
        access,
        frame,
        [
            web.get("/", overview),
            web.get("/api/home", api_home),
            web.get("/cameras/{camera}/{label}.jpg", snapshot),
            web.get("/timeline/{row}.jpg", thumbnail),
            web.post("/arm", arm),
            web.post("/disarm", disarm),
            web.post("/snooze", snooze),
            web.static("/home-static", HOME_STATIC, follow_symlinks=False, append_version=False),
        ],
    )
    app[SITE] = site
    return app


async def overview(request: web.Request) -> web.StreamResponse:
    site = request.app[SITE]
    return render(
        request,
        "home.html",
        cameras=site.store.cameras(),
        events=site.store.timeline(site.timeline),
        connected=site.listener.connected.is_set(),
        labels=LABELS,
        notice=request.query.get("sent", ""),
        sent_to=_number(request.query.get("cameras", "0"), web.HTTPBadRequest),
        now=time.time(),
    )


async def api_home(request: web.Request) -> web.StreamResponse:
    site = request.app[SITE]
    cameras = [
        {
            "name": c.name,
            "prefix": c.prefix,
            "online": c.online,
            "level": c.level,
            "armed": c.armed,
            "snooze": c.snooze,
            "page": c.page,
            "snapshots": list(c.snapshots),
        }
        for c in site.store.cameras()
    ]
    events = [
        {"camera": e.camera, "id": e.event_id, "label": e.label, "thumbnail": e.thumbnail}
        for e in site.store.timeline(site.timeline)
    ]
    return web.json_response(
        {"connected": site.listener.connected.is_set(), "cameras": cameras, "events": events}
    )


def _jpeg(data: bytes | None) -> web.Response:
    if data is None:
        raise web.HTTPNotFound(text="404: no such picture\n")
    return web.Response(body=data, content_type="image/jpeg")


async def snapshot(request: web.Request) -> web.StreamResponse:
    label = request.match_info["label"]
    if label not in LABELS:
        raise web.HTTPNotFound(text="404: no such picture\n")
    camera = _number(request.match_info["camera"])
    return _jpeg(request.app[SITE].store.snapshot_jpeg(camera, label))


async def thumbnail(request: web.Request) -> web.StreamResponse:
    return _jpeg(request.app[SITE].store.thumbnail_jpeg(_number(request.match_info["row"])))


def _number(text: str, refusal: type[web.HTTPException] = web.HTTPNotFound) -> int:
    if not text.isdigit() or len(text) > 18:
        raise refusal(text="no such item\n")
    return int(text)


async def arm(request: web.Request) -> web.StreamResponse:
    return _sent(request, lambda listener: listener.arm_all(True), "armed")


async def disarm(request: web.Request) -> web.StreamResponse:
    return _sent(request, lambda listener: listener.arm_all(False), "disarmed")


async def snooze(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    text = str(form.get("minutes", ""))
    try:
        minutes = parse_minutes(text)
    except CommandError as error:
        raise web.HTTPBadRequest(text=f"400: {error}\n") from None
    word = "unsnoozed" if minutes == 0 else "snoozed"
    return _sent(request, lambda listener: listener.snooze_all(minutes), word)


def _sent(
    request: web.Request, send: Callable[[HomeListener], int], word: str
) -> web.StreamResponse:
    try:
        count = send(request.app[SITE].listener)
    except CommandError as error:
        raise web.HTTPServiceUnavailable(text=f"503: {error}\n") from None
    raise web.HTTPSeeOther(f"/?sent={word}&cameras={count}")

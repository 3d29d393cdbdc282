"""Login, logout and the two middlewares every request passes: response headers and the guard.

The guard lets through only the login page, the static files (the page's own CSS and JS) and,
when ``web.allow_health_without_login`` says so, ``/api/health``.  Everything else needs a
session: a page without one is redirected to the login, anything else (an image, a clip, the
API, a POST) gets 401.  Every request that changes something (any method but GET and HEAD) must
carry the session's CSRF token, in the ``X-CSRF-Token`` header or a ``csrf`` form field.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from aiohttp import web

from camera.site.auth import Access, same_token
from camera.site.clients import client_address
from camera.site.render import FRAME, SESSION, Frame, render
from camera.site.server import MAX_BODY, STATIC

log = logging.getLogger(__name__)

SESSION_COOKIE = "ronda_session"
LOGIN_COOKIE = "ronda_login"
ACCESS = web.AppKey("access", Access)
"""Set by every site that uses these handlers (the camera's page, the home page)."""
PUBLIC_PREFIXES = web.AppKey("public_prefixes", tuple[str, ...])
"""Paths under these need no session: the shared static files, and what a site adds (the
camera's page: the blueprints Home Assistant fetches)."""
SAFE_METHODS = frozenset({"GET", "HEAD"})
PUBLIC_PATHS = frozenset({"/login", "/favicon.ico"})
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' blob: data:; media-src 'self'; style-src 'self'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as error:
        response = error
        _set_headers(response)
        raise
    _set_headers(response)
    return response


def _set_headers(response: web.StreamResponse) -> None:
    if response.prepared:  # streams (MJPEG) set theirs before the first byte
        return
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Cache-Control", "no-store")


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    access = request.app[ACCESS]
    path = request.path
    if path in PUBLIC_PATHS or path.startswith(request.app[PUBLIC_PREFIXES]):
        return await handler(request)
    if path == "/api/health" and access.health_without_login:
        return await handler(request)
    session = access.sessions.get(request.cookies.get(SESSION_COOKIE))
    if session is None:
        if request.method in SAFE_METHODS and _is_page(request):
            target = request.path_qs
            raise web.HTTPSeeOther(f"/login?next={quote(target, safe='')}")
        raise web.HTTPUnauthorized(text="401: log in first\n")
    request[SESSION] = session
    if request.method not in SAFE_METHODS:
        token = request.headers.get("X-CSRF-Token")
        if token is None and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            token = str((await request.post()).get("csrf", "")) or None
        if not same_token(token, session.csrf):
            log.warning("web: %s %s refused: missing or wrong CSRF token", request.method, path)
            raise web.HTTPForbidden(text="403: missing or wrong CSRF token (reload the page)\n")
    return await handler(request)


def _is_page(request: web.Request) -> bool:
    """A page a person opened (redirect to the login), not a file or an API call (401)."""
    last = request.path.rsplit("/", 1)[-1]
    return (
        not request.path.startswith("/api/")
        and "." not in last
        and last
        not in {
            "clip",
            "thumbnail",
        }
    )


def safe_next(target: str | None) -> str:
    """Where to go after the login: only a path on this site (no ``//host``, no scheme)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


async def login_page(request: web.Request) -> web.StreamResponse:
    return login_form(request, safe_next(request.query.get("next")))


def login_form(
    request: web.Request, target: str, status: int = 200, error: str | None = None
) -> web.Response:
    """The login page with a fresh login token in the form and in a cookie (login CSRF)."""
    access = request.app[ACCESS]
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        status=status,
        login_token=token,
        next=target,
        error=error,
        password_set=access.passwords.is_set(),
    )
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        httponly=True,
        samesite="Strict",
        secure=access.secure_cookies,
        max_age=3600,
    )
    return response


async def login(request: web.Request) -> web.StreamResponse:
    """Check the password (rate-limited, off the event loop) and open a session."""
    access = request.app[ACCESS]
    form = await request.post()
    client = client_address(
        request.remote,
        request.headers.getall("X-Forwarded-For", []),
        access.proxies,
    )
    target = safe_next(str(form.get("next", "/")))
    expected = request.cookies.get(LOGIN_COOKIE)
    if expected is None or not same_token(str(form.get("login_token", "")), expected):
        raise web.HTTPForbidden(text="403: stale login form (reload the page)\n")
    wait = access.throttle.retry_after(client)
    if wait is not None:
        return _refused(request, target, 429, f"Too many wrong passwords: wait {wait:.0f} s.", wait)
    password = str(form.get("password", ""))
    loop = asyncio.get_running_loop()
    right = await loop.run_in_executor(access.worker, access.passwords.verify, password)
    del password
    if not right:
        access.throttle.failed(client)
        return _refused(request, target, 401, "Wrong password.", None)
    access.throttle.succeeded(client)
    session = access.sessions.create()
    log.info("web: login from %s", client)
    response = web.HTTPSeeOther(target)
    response.set_cookie(
        SESSION_COOKIE,
        session.token,
        httponly=True,
        samesite="Strict",
        secure=access.secure_cookies,
        max_age=round(access.sessions.lifetime_s),
    )
    response.del_cookie(LOGIN_COOKIE)
    raise response


def _refused(
    request: web.Request, target: str, status: int, message: str, wait: float | None
) -> web.StreamResponse:
    response = login_form(request, target, status, message)
    if wait is not None:
        response.headers["Retry-After"] = str(max(1, round(wait)))
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    access = request.app[ACCESS]
    access.sessions.drop(request.cookies.get(SESSION_COOKIE))
    response = web.HTTPSeeOther("/login")
    response.del_cookie(SESSION_COOKIE)
    raise response


def guarded_app(
    access: Access,
    frame: Frame,
    routes: list[web.AbstractRouteDef],
    public: tuple[str, ...] = (),
) -> web.Application:
    """A site behind these rules: the headers and the guard on every request, the login page,
    login and logout, the shared static files (``/static``), then the site's own ``routes``;
    paths under ``public`` need no login either."""
    app = web.Application(middlewares=[security_headers, guard], client_max_size=MAX_BODY)
    app[ACCESS] = access
    app[PUBLIC_PREFIXES] = ("/static/", *public)
    app[FRAME] = frame
    app.add_routes(
        [
            web.get("/login", login_page),
            web.post("/login", login),
            web.post("/logout", logout),
            *routes,
            web.static("/static", STATIC, follow_symlinks=False, append_version=False),
        ]
    )
    return app

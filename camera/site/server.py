"""Serving one site: an aiohttp application on its own thread and event loop.

Why aiohttp: one well-kept package (aio-libs) with its own HTTP server, TLS through the standard
``ssl`` module, streaming responses for MJPEG, and ``FileResponse`` that answers HTTP Range
requests (phones seek in clips) without loading files into memory; aarch64 wheels; one thread
serves every viewer, so a Pi Zero 2 W (512 MB, 4 slow cores) pays for no thread per connection.
Idle, the thread sleeps in ``epoll`` and holds no GIL, so the frame loop does not notice it.

The camera's page (``camera.web.server``) and the home page (``camera.home``) are two sites
built on this kit; the kit imports neither, so the home page does not load the camera's.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import threading
from pathlib import Path

from aiohttp import web

from camera.site.config import WebConfig

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
LOCALHOST = "127.0.0.1"
LOCAL_NAMES = frozenset({LOCALHOST, "localhost", "::1"})
MAX_BODY = 256 * 1024  # a login form or a few polygons; nothing bigger is ever posted


class WebError(Exception):
    """The page cannot be served (port in use, bad certificate): one user-facing line."""


def ssl_context(config: WebConfig) -> ssl.SSLContext | None:
    if config.tls_cert is None or config.tls_key is None:
        return None
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        tls.load_cert_chain(config.tls_cert.expanduser(), config.tls_key.expanduser())
    except (OSError, ssl.SSLError) as error:
        raise WebError(f"web: cannot use the TLS certificate {config.tls_cert}: {error}") from None
    return tls


class SiteServer:
    """Runs the application ``make_app`` builds on a daemon thread; ``start`` returns once it
    listens.  The camera's page (``WebServer``) and the home page (``camera.home``) are two."""

    def __init__(
        self,
        config: WebConfig,
        *,
        password_set: bool,
        host: str | None = None,
        port: int | None = None,
        password_hint: str = "`ronda web passwd`",
    ):
        self.config = config
        wanted = host or config.host
        self.wanted_host = wanted
        self.password_set = password_set
        self.password_hint = password_hint
        # No password yet: nobody could log in anyway, and nothing may be reachable unguarded.
        self.host = wanted if self.password_set else LOCALHOST
        self.port = config.port if port is None else port
        self.tls = ssl_context(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def make_app(self, loop: asyncio.AbstractEventLoop) -> web.Application:
        raise NotImplementedError

    def stopped(self) -> None:
        """Called on the server's thread once it no longer serves."""

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        host = "localhost" if self.host in (LOCALHOST, "0.0.0.0") else self.host
        return f"{scheme}://{host}:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        self._thread = threading.Thread(target=self._serve, name="ronda-web", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise WebError(f"web: the server did not start within {timeout:.0f} s")
        if self._error is not None:
            raise WebError(f"web: cannot listen on {self.host}:{self.port}: {self._error}")
        if not self.password_set and self.wanted_host in LOCAL_NAMES:
            log.warning(
                "web: no password set: nobody can log in until one is set with %s",
                self.password_hint,
            )
        elif not self.password_set:
            log.warning(
                "web: no password set, so the page listens on %s only; set one with "
                "%s and restart to listen on %s",
                LOCALHOST,
                self.password_hint,
                self.wanted_host,
            )
        log.info("web: serving %s", self.url)

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        app = self.make_app(loop)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=2.0)
        try:
            loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, self.host, self.port, ssl_context=self.tls)
            loop.run_until_complete(site.start())
        except OSError as error:
            self._error = error
            self._ready.set()
            loop.run_until_complete(runner.cleanup())
            loop.close()
            return
        self._runner = runner
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            self.stopped()
            loop.run_until_complete(runner.cleanup())
            loop.close()

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)

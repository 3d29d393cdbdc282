"""The live view: an MJPEG stream for ``<img>`` and a single JPEG for the editor.

A viewer counts from the first byte to the closed connection; while none is counted the frame
loop publishes nothing (``LiveFeed``).  Encoding runs in a worker thread; a frame is encoded once
whatever the number of viewers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web

from camera.site.render import render
from camera.web.context import CONTEXT, WebContext
from camera.web.live import LiveFeed, LiveFrame

log = logging.getLogger(__name__)

BOUNDARY = "ronda-frame"
FIRST_FRAME_TIMEOUT_S = 10.0


class FrameSignal:
    """Wakes waiting viewers when the frame loop publishes; lives on the server's event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._event = asyncio.Event()

    def notify_threadsafe(self) -> None:
        """Called from the frame loop: schedules the wake-up, costs one pipe write."""
        # RuntimeError: the server is shutting down, nobody is waiting any more.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._fire)

    def _fire(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def newer(self, feed: LiveFeed, sequence: int, timeout: float) -> LiveFrame | None:
        """The latest frame once it is newer than ``sequence``; None after ``timeout``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            frame = feed.latest
            if frame is not None and frame.sequence > sequence:
                return frame
            left = deadline - loop.time()
            if left <= 0:
                return None
            try:
                await asyncio.wait_for(self._event.wait(), left)
            except TimeoutError:
                return None


FRAME_SIGNAL = web.AppKey("frame_signal", FrameSignal)


def _feed(context: WebContext) -> LiveFeed:
    if context.live is None:
        raise web.HTTPNotFound(text="404: no camera runs in this process (ronda web)\n")
    return context.live


async def live_page(request: web.Request) -> web.StreamResponse:
    context = request.app[CONTEXT]
    privacy = context.live is not None and context.live.privacy
    return render(request, "live.html", live_fps=context.config.web.live_fps, privacy=privacy)


async def _encode(context: WebContext, frame: LiveFrame, overlay: bool) -> bytes:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(
        context.worker, context.encoder.jpeg, frame, overlay, context.areas()
    )


async def mjpeg(request: web.Request) -> web.StreamResponse:
    context = request.app[CONTEXT]
    feed = _feed(context)
    signal = request.app[FRAME_SIGNAL]
    overlay = request.query.get("overlay") == "1"
    response = web.StreamResponse(
        headers={
            "Content-Type": f"multipart/x-mixed-replace; boundary={BOUNDARY}",
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        }
    )
    await response.prepare(request)
    feed.watch()
    log.debug("web: live viewer joined (%d watching)", feed.viewers)
    try:
        sequence = 0
        while True:
            frame = await signal.newer(feed, sequence, FIRST_FRAME_TIMEOUT_S)
            if frame is None:
                continue  # the camera is stalled: keep the connection, wait again
            data = await _encode(context, frame, overlay)
            head = (
                f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(data)}\r\n\r\n"
            )
            await response.write(head.encode() + data + b"\r\n")
            sequence = frame.sequence
    except (ConnectionResetError, ConnectionError):
        pass
    finally:
        feed.unwatch()
        log.debug("web: live viewer left (%d watching)", feed.viewers)
    return response


async def snapshot(request: web.Request) -> web.StreamResponse:
    """One fresh frame (the editor's background)."""
    context = request.app[CONTEXT]
    feed = _feed(context)
    signal = request.app[FRAME_SIGNAL]
    sequence = feed.latest.sequence if feed.latest is not None else 0
    feed.watch()
    try:
        frame = await signal.newer(feed, sequence, FIRST_FRAME_TIMEOUT_S)
    finally:
        feed.unwatch()
    if frame is None:
        if feed.privacy:
            raise web.HTTPServiceUnavailable(text="503: privacy mode is on: no picture\n")
        raise web.HTTPServiceUnavailable(text="503: no frame from the camera yet\n")
    data = await _encode(context, frame, request.query.get("overlay") == "1")
    return web.Response(body=data, content_type="image/jpeg", headers={"Cache-Control": "no-store"})

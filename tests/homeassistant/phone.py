"""The phone side of a push, as Home Assistant's ``mobile_app`` integration sees it.

A companion app registers with ``app_data.push_url`` and ``push_token``; Home Assistant's
``notify.mobile_app_<phone>`` then POSTs every notification as JSON to that URL (normally the
push relay that hands it to Apple or Google).  ``PushGateway`` is that URL on loopback: it records
each push with its arrival time, answers like the relay (201, JSON), and then does what the phone
does on receipt: fetches the notification's image through Home Assistant, with the phone's
credentials, so a test sees the picture the owner would see.  ``tray`` replays the pushes the way
the companion apps show them: a push with the tag of one already shown replaces it.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ImageFetch = Callable[[str], tuple[int, bytes, str]]
"""Relative URL -> (status, body, content type), fetched through Home Assistant with auth."""


@dataclass
class Push:
    phone: str
    body: dict[str, Any]
    at: float
    """``time.monotonic()`` when the request reached the gateway (as ``Received.at``)."""
    image: tuple[int, bytes, str] | None = None
    fetched: threading.Event = field(default_factory=threading.Event)

    @property
    def data(self) -> dict[str, Any]:
        return dict(self.body.get("data") or {})

    @property
    def tag(self) -> str | None:
        return self.data.get("tag")


class PushGateway:
    """A loopback HTTP server standing in for the push relay of every registered test phone."""

    def __init__(self, fetch_image: ImageFetch | None = None) -> None:
        self.fetch_image = fetch_image
        self._pushes: list[Push] = []
        self._lock = threading.Lock()
        self._fetches: queue.Queue[Push | None] = queue.Queue()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                arrived = time.monotonic()
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                reply = b"{}"
                self.send_response(201)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)
                gateway._received(Push(self.path.rsplit("/", 1)[-1], body, arrived))

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._threads = [
            threading.Thread(target=self._server.serve_forever, daemon=True),
            threading.Thread(target=self._fetch_images, daemon=True),
        ]

    def start(self) -> PushGateway:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._fetches.put(None)

    def url(self, phone: str) -> str:
        return f"http://127.0.0.1:{self.port}/push/{phone}"

    def pushes(self, phone: str | None = None) -> list[Push]:
        with self._lock:
            return [p for p in self._pushes if phone is None or p.phone == phone]

    def tray(self, phone: str) -> dict[str, Push]:
        """What the phone shows: per tag, the latest push (untagged pushes by position)."""
        shown: dict[str, Push] = {}
        for index, push in enumerate(self.pushes(phone)):
            shown[push.tag or f"untagged-{index}"] = push
        return shown

    def _received(self, push: Push) -> None:
        with self._lock:
            self._pushes.append(push)
        self._fetches.put(push)

    def _fetch_images(self) -> None:
        """On receipt, in arrival order, like the phone's notification service."""
        while (push := self._fetches.get()) is not None:
            image = push.data.get("image")
            if image and self.fetch_image is not None:
                push.image = self.fetch_image(image)
            push.fetched.set()

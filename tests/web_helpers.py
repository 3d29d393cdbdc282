"""A real ``ronda run`` with its web page, and a real Chromium (Debian's) to look at it."""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import cv2

from camera.events import EventUpdate
from tests.broker import free_port
from tests.cli_helpers import REPO, ronda
from tests.conftest import footage
from tests.link_helpers import update

PASSWORD = "correct horse battery staple"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = REPO / "tests" / "artifacts" / "web"
CONFIG_TEXT = """\
# Ronda on the porch: comments like these must survive the web editor.
camera:
  name: porch          # shown in the page title
source:
  kind: file
  uri: {clip}
  loop: true           # a camera that never stops
store:
  path: {state}
mqtt:
  enabled: false       # no broker in this test
motion:
  sensitivity: medium  # the default preset
governor:
  load:
    enabled: false     # what the page shows is tested, not how busy this machine is
web:
  host: 127.0.0.1
  port: {port}
  live_fps: 4
"""


@dataclass
class Client:
    """A plain HTTP client that keeps cookies, as a browser would, for the security tests."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)
    bodies: list[bytes] = field(default_factory=list)
    forwarded_for: str | None = None
    """Sent as ``X-Forwarded-For`` with every request, as a reverse proxy would."""

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ) -> http.client.HTTPResponse:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        sent = dict(headers or {})
        if self.forwarded_for:
            sent["X-Forwarded-For"] = self.forwarded_for
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        response.data = response.read()  # type: ignore[attr-defined]
        self.bodies.append(response.data)  # type: ignore[attr-defined]
        for header in response.headers.get_all("Set-Cookie") or []:
            name, value = header.split(";", 1)[0].split("=", 1)
            self.cookies[name] = value.strip('"')
        return response

    def login(self, password: str) -> http.client.HTTPResponse:
        page = self.request("GET", "/login").data  # type: ignore[attr-defined]
        token = re.search(rb'name="login_token" value="([^"]+)"', page)
        assert token
        form = urlencode({"login_token": token[1].decode(), "password": password, "next": "/"})
        return self.request(
            "POST",
            "/login",
            form.encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )

    def csrf(self, page_path: str = "/events") -> str:
        page = self.request("GET", page_path).data  # type: ignore[attr-defined]
        match = re.search(rb'name="csrf-token" content="([^"]+)"', page)
        assert match
        return match[1].decode()


PAGE_TIMEOUT_S = 60
"""How long a page action or a picture may take before a browser test fails."""


def write_slice(path: Path, first: int, last: int) -> Path:
    """Frames ``first..last`` of the indoor clip (10 fps) as a small MP4: an empty room, then a
    person walking in; looped by the source it is a camera with a visitor every few seconds."""
    capture = cv2.VideoCapture(str(footage("clips/intel_one-by-one-person-detection.mp4")))
    writer: cv2.VideoWriter | None = None
    index = 0
    while index <= last:
        ok, image = capture.read()
        if not ok:
            break
        if index >= first:
            if writer is None:
                height, width = image.shape[:2]
                writer = cv2.VideoWriter(
                    str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (width, height)
                )
            writer.write(image)
        index += 1
    capture.release()
    assert writer is not None
    writer.release()
    return path


def event_update(
    event_id: str, label: str = "person", kind: str = "start", sequence: int = 1
) -> EventUpdate:
    """One published update, as the pipeline would hand it to the store."""
    return replace(update(event_id, kind, label), sequence=sequence, frame_time=float(sequence))


def image_loaded(page: Any, element_id: str, timeout: float = PAGE_TIMEOUT_S) -> None:
    """Wait until the browser has decoded the image ``#element_id``."""
    wait_for(
        lambda: page.evaluate(f"document.getElementById('{element_id}').naturalWidth") > 0,
        timeout,
        f"image #{element_id} to load",
    )


def wait_for(condition: Callable[[], Any], timeout: float, what: str, every: float = 0.2) -> Any:
    """Poll ``condition`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


class Camera:
    """``ronda run`` in a subprocess, its web page on a free loopback port."""

    def __init__(
        self,
        root: Path,
        clip: Path | None,
        config_text: str = CONFIG_TEXT,
        command: tuple[str, ...] = ("run",),
        **values: object,
    ) -> None:
        """``config_text`` is formatted with ``clip``, ``state``, ``port`` and ``values``;
        ``command`` is what runs (``ronda home`` serves a page too)."""
        self.root = root
        self.state = root / "state"
        self.port = free_port()
        self.config = root / "ronda.yaml"
        self.config.write_text(
            config_text.format(clip=clip, state=self.state, port=self.port, **values)
        )
        self.command = command
        self.log = root / "ronda.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set_password(self, password: str = PASSWORD) -> None:
        page = "home" if self.command[0] == "home" else "web"
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "camera",
                page,
                "passwd",
                "--stdin",
                "--config",
                str(self.config),
            ],
            input=password + "\n",
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr

    def start(self) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with self.log.open("a") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "camera", *self.command, "--config", str(self.config)],
                cwd=REPO,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        wait_for(lambda: self.status("/login") == 200, 90, "the web page to answer")

    def status(self, path: str) -> int | None:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"ronda {self.command[0]} exited: {self.log.read_text()}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            connection.request("GET", path)
            return connection.getresponse().status
        except OSError:
            return None

    def stop(self) -> str:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.log.read_text()


@contextmanager
def chromium_page(base_url: str, height: int = 760) -> Iterator[Any]:
    """A page of Debian's Chromium driven by Playwright, at ``base_url``, 1100 px wide."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        raise AssertionError(f"{CHROMIUM} is missing: ./run-tests.sh installs Debian's chromium")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        context = browser.new_context(base_url=base_url, viewport={"width": 1100, "height": height})
        # Generous: the suite runs on two workers, and the other one may be replaying footage
        # through the detector on both cores while this page waits for a camera process.
        context.set_default_timeout(PAGE_TIMEOUT_S * 1000)
        yield context.new_page()
        context.close()
        browser.close()


def health(page: Any) -> dict[str, Any]:
    """``/api/health`` through the browser's own session."""
    response = page.request.get("/api/health")
    assert response.status == 200, response.status
    return json.loads(response.text())


__all__ = ["ARTIFACTS", "CHROMIUM", "CHROMIUM_ARGS", "PASSWORD", "Camera", "ronda", "wait_for"]

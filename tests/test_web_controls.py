"""The controls on the web page over real HTTP (the same ``Controls.change`` as MQTT, behind
the login and CSRF), and the page's small mends: the favicon, the event heading, "–" before
data, and the still the masks editor draws on under ``ronda web``."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
import pytest

from camera.app import first_controls
from camera.controls import Controls
from camera.pipeline import FrameOutcome
from camera.pipeline.still import STILL_NAME, StillWriter
from camera.types import Frame, Policy
from camera.web.context import WebContext
from camera.web.server import WebServer
from tests.event_factory import event_update
from tests.test_web_security import PASSWORD, configured_site
from tests.web_helpers import Client

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@contextlib.contextmanager
def serve(tmp_path: Path, *, with_controls: bool) -> Iterator[tuple[WebServer, Controls | None]]:
    """The page over a store with two events; with the controls of a running camera or
    without (``ronda web``); stats from before the first frame."""
    made: list[Controls] = []

    def setup(context: WebContext) -> None:
        context.events.record(event_update("same-0001"), b"\xff\xd8 jpeg \xff\xd9")
        cat = event_update("cat-0001", label="pet", subclass="cat")
        context.events.record(cat, b"\xff\xd8 jpeg \xff\xd9")
        if with_controls:
            made.append(Controls(first_controls(context.config), context.state_dir))
            context.controls = made[0]
        before_data = {"frames": 0, "fps": 0.0, "motion_share": 0.0, "detector_calls": 0}
        context.stats = lambda: {**before_data, "detector_ms": 0, **current(context.controls)}

    with configured_site(tmp_path, setup=setup) as server:
        yield server, (made[0] if made else None)


def current(controls: Controls | None) -> dict[str, object]:
    """What the running camera's stats say of its controls."""
    return {} if controls is None else {"controls": controls.current.as_dict(time.time())}


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[Client, Controls]]:
    with serve(tmp_path, with_controls=True) as (server, controls):
        client = Client(server.port)
        assert client.login(PASSWORD).status == 303
        assert controls is not None
        yield client, controls


def post(client: Client, fields: dict[str, str]):
    return client.request("POST", "/controls", urlencode(fields).encode(), FORM)


def test_the_page_changes_controls_through_the_one_function_with_csrf(
    running: tuple[Client, Controls],
) -> None:
    client, controls = running
    page = client.request("GET", "/").data.decode()  # type: ignore[attr-defined]
    assert 'id="controls"' in page and 'data-control="armed">ON' in page
    assert 'data-control="state">watching<' in page
    refused = post(client, {"control": "armed", "value": "OFF"})
    assert refused.status == 403 and controls.current.armed is True  # no CSRF token
    csrf = client.csrf()
    done = post(client, {"control": "armed", "value": "OFF", "csrf": csrf})
    assert done.status == 303 and done.headers["Location"] == "/#controls"
    assert controls.current.armed is False and controls.applied == 1
    post(client, {"control": "snooze", "value": "45", "csrf": csrf})
    assert controls.current.snooze_minutes(time.time()) == 45
    bad = post(client, {"control": "sensitivity", "value": "loud", "csrf": csrf})
    assert bad.status == 303 and "control_error=" in bad.headers["Location"]
    assert controls.current.sensitivity == "medium" and controls.refused == 1
    page = client.request("GET", bad.headers["Location"]).data.decode()  # type: ignore[attr-defined]
    assert "sensitivity: expected one of low, medium, high, got &#39;loud&#39;" in page
    assert 'data-control="armed">OFF' in page and "(45 min)" in page
    assert 'data-control="state">disarmed<' in page


def test_browsing_without_a_camera_shows_the_controls_but_cannot_change_them(
    tmp_path: Path,
) -> None:
    with serve(tmp_path, with_controls=False) as (server, _):
        client = Client(server.port)
        client.login(PASSWORD)
        response = post(client, {"control": "armed", "value": "OFF", "csrf": client.csrf()})
        assert response.status == 409
        assert b"no camera runs in this process" in response.data  # type: ignore[attr-defined]


def test_favicon_heading_and_no_zeros_before_data(running: tuple[Client, Controls]) -> None:
    client, _ = running
    icon = Client(client.port).request("GET", "/favicon.ico")  # no session needed
    assert (icon.status, icon.headers["Content-Type"]) == (200, "image/svg+xml")
    same = client.request("GET", "/events/same-0001").data.decode()  # type: ignore[attr-defined]
    assert re.search(r"<h1>person</h1>", same), same
    cat = client.request("GET", "/events/cat-0001").data.decode()  # type: ignore[attr-defined]
    assert "<h1>pet <small>cat</small></h1>" in cat
    status = client.request("GET", "/").data.decode()  # type: ignore[attr-defined]
    assert 'data-field="detector_ms">–<' in status
    assert 'data-format="percent">–<' in status
    assert "0 ms" not in status and "0.0 %" not in status


def test_the_still_for_the_editor_is_written_shown_with_its_age_and_gone_in_privacy(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    writer = StillWriter(state)
    frame = Frame(image=np.full((720, 1920, 3), 128, np.uint8), timestamp=0.0, index=0)
    writer(FrameOutcome(frame=frame, processed=True, policy=Policy()))
    still = state / STILL_NAME
    deadline = time.monotonic() + 10
    while not still.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert still.exists()
    with serve(tmp_path, with_controls=False) as (server, _):
        client = Client(server.port)
        client.login(PASSWORD)
        editor = client.request("GET", "/masks").data.decode()  # type: ignore[attr-defined]
        assert 'src="/still.jpg"' in editor and re.search(r"taken \d+ s ago", editor)
        image = client.request("GET", "/still.jpg")
        assert image.status == 200 and image.data[:2] == b"\xff\xd8"  # type: ignore[attr-defined]
    writer(FrameOutcome(frame=frame, processed=False, policy=Policy(), privacy=True))
    assert not still.exists()

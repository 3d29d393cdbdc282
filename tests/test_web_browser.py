"""The web page in a real Chromium against a real ``ronda run`` replaying footage.

One camera and one browser for the whole module: log in, watch the live image change, open an
event and see its snapshot, draw a mask over the picture and see motion stop waking the
detector, draw a zone and find it in the config file with the owner's comments still there,
delete an event.  Screenshots go to ``tests/artifacts/web/`` (the manual's come from there).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.broker import Mosquitto, Subscriber, wait_until
from tests.web_helpers import (
    ARTIFACTS,
    CONFIG_TEXT,
    PASSWORD,
    Camera,
    chromium_page,
    health,
    image_loaded,
    wait_for,
    write_slice,
)

pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def camera(tmp_path_factory: pytest.TempPathFactory, module_broker: Mosquitto) -> Iterator[Camera]:
    root = tmp_path_factory.mktemp("web-camera")
    # 16 s at 10 fps: 2 s of empty room, then a person walks in and stands at the table.
    clip = write_slice(root / "visitor.mp4", 40, 200)
    with_broker = CONFIG_TEXT.replace(
        "  enabled: false       # no broker in this test\n", "  host: 127.0.0.1\n  port: {mqtt}\n"
    )
    camera = Camera(root, clip, with_broker, mqtt=module_broker.port)
    camera.set_password()
    camera.start()
    yield camera
    log = camera.stop()
    assert PASSWORD not in log
    assert "Traceback" not in log, log


@pytest.fixture(scope="module")
def page(camera: Camera) -> Iterator[Any]:
    with chromium_page(camera.url) as page:
        yield page


def shot(page: Any, name: str) -> Path:
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def test_login_refuses_a_wrong_password_then_lets_the_owner_in(page: Any) -> None:
    page.goto("/events")
    assert "/login" in page.url  # no session: the page sends us to the login
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    assert page.locator(".error[role=alert]").inner_text() == "Wrong password."
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/events")
    shot(page, "login-done")


def test_live_image_changes(page: Any, camera: Camera) -> None:
    page.goto("/live")
    live = page.locator("img#live")
    image_loaded(page, "live")
    first = live.screenshot()
    # The person walks in within the 16 s loop; frames differ long before that (noise, time).
    wait_for(lambda: live.screenshot() != first, 20, "the live image to change", every=0.5)
    assert health(page)["live_viewers"] >= 1
    shot(page, "live")


def test_status_page_shows_the_running_camera(page: Any) -> None:
    page.goto("/")
    wait_for(lambda: page.locator("[data-field=fps]").inner_text() not in ("", "–"), 15, "fps")
    assert float(page.locator("[data-field=fps]").inner_text()) > 0
    assert page.locator("[data-field=governor_level]").inner_text() == "normal"
    status = health(page)
    assert status["ok"] is True and status["last_frame_s"] < 5
    shot(page, "status")
    phone = page.context.new_page()  # the same session on a phone-sized screen
    phone.set_viewport_size({"width": 390, "height": 844})
    phone.goto("/")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll
    tops = phone.evaluate(
        "[...document.querySelectorAll('header nav a, header .logout button')]"
        ".map(e => Math.round(e.getBoundingClientRect().top))"
    )
    assert len(tops) == 5 and max(tops) - min(tops) < 10, tops  # one line, not two
    shot(phone, "status-phone")
    phone.close()


def test_controls_on_the_page_change_what_mqtt_reports_and_back(
    page: Any, module_broker: Mosquitto
) -> None:
    mqtt = Subscriber(module_broker.host, module_broker.port, topic="ronda/porch/#").start()

    def reported(control: str) -> str | None:
        found = [m for m in mqtt.messages if m.topic == f"ronda/porch/{control}"]
        return found[-1].payload.decode() if found else None

    def now_reports(control: str, value: str) -> None:
        assert wait_until(lambda: reported(control) == value, 10), (control, reported(control))
        if control in ("armed", "privacy"):  # the page, reloaded after the post, says so too
            assert page.locator(f"[data-control={control}]").inner_text() == value

    try:
        page.goto("/")
        assert wait_until(lambda: reported("armed") == "ON", 10)
        page.get_by_role("button", name="Disarm").click()
        now_reports("armed", "OFF")
        page.get_by_role("button", name="Privacy on").click()
        now_reports("privacy", "ON")
        assert page.locator("#controls .error").count() == 0
        wait_for(lambda: "privacy" in page.locator("#health").inner_text(), 10, "'privacy'", 1)
        page.goto("/live")
        assert "Privacy mode is on" in page.locator("main").inner_text()
        assert page.request.get("/live.jpg").status == 503
        page.goto("/")
        page.locator("#controls input[name=value][type=number]").first.fill("15")
        page.get_by_role("button", name="Snooze", exact=True).click()
        now_reports("snooze", "15")
        page.locator("#controls select[name=value]").select_option("high")
        page.locator("#controls form:has(select) button").click()
        now_reports("sensitivity", "high")
        shot(page, "controls")
        # and back
        page.get_by_role("button", name="End snooze").click()
        now_reports("snooze", "0")
        page.locator("#controls select[name=value]").select_option("medium")
        page.locator("#controls form:has(select) button").click()
        now_reports("sensitivity", "medium")
        page.get_by_role("button", name="Watch again").click()
        now_reports("privacy", "OFF")
        page.get_by_role("button", name="Arm", exact=True).click()
        now_reports("armed", "ON")
    finally:
        mqtt.stop()


def test_event_page_shows_the_snapshot(page: Any) -> None:
    wait_for(lambda: health(page)["events_total"] >= 1, 60, "the first person event")
    page.goto("/events")
    page.locator("ul.events a").first.click()
    page.wait_for_url("**/events/*")
    snapshot = page.locator("img#snapshot")
    image_loaded(page, "snapshot")
    assert snapshot.is_visible()
    assert page.locator("table tbody tr").count() >= 1  # its updates: at least the start
    shot(page, "event")
    page.goto("/events")
    shot(page, "events")


def _click(page: Any, x: float, y: float) -> None:
    """Click at relative (x, y) of the drawing area."""
    box = page.locator("svg#drawing").bounding_box()
    page.mouse.click(box["x"] + x * box["width"], box["y"] + y * box["height"])


def test_mask_drawn_in_the_page_stops_motion_waking_the_detector(page: Any, camera: Camera) -> None:
    before = health(page)
    assert before["motion_frames"] > 0 and before["detector_calls"] > 0
    page.goto("/masks")
    image_loaded(page, "background")
    page.click("#new-mask")
    box = page.locator("svg#drawing").bounding_box()
    corners = [(1, 1), (box["width"] - 1, 1), (box["width"] - 1, box["height"] - 1)]
    corners.append((1, box["height"] - 1))
    for x, y in corners:
        page.mouse.click(box["x"] + x, box["y"] + y)
    page.click("#close-polygon")
    page.click("#save")
    page.wait_for_selector("#saved:has-text('Saved and applied.')")
    shot(page, "masks")

    saved = yaml.safe_load(camera.config.read_text())
    assert len(saved["motion"]["masks"]) == 1 and len(saved["motion"]["masks"][0]) == 4
    assert "# the default preset" in camera.config.read_text()

    # From the next frame on nothing in the picture is motion: the count stops for good.  The
    # person's open track may still be refreshed until it ends, then the detector sleeps while
    # the visitor keeps walking in, loop after loop.
    applied = health(page)
    wait_for(lambda: health(page)["frames"] > applied["frames"] + 20, 60, "20 more frames")
    settled = health(page)["motion_frames"]

    def quiet_for_a_loop() -> bool:
        start = health(page)
        wait_for(lambda: health(page)["frames"] >= start["frames"] + 170, 40, "a full loop")
        end = health(page)
        return (
            end["detector_calls"] == start["detector_calls"]
            and end["motion_frames"] == (start["motion_frames"])
        )

    wait_for(quiet_for_a_loop, 90, "a whole loop with no detector call", every=0)
    assert health(page)["motion_frames"] == settled


def test_event_clip_plays_in_the_page_and_seeks(page: Any) -> None:
    from camera.config import RondaConfig

    if "clips" not in RondaConfig.model_fields:
        pytest.skip("recording (issue 10) is not on main yet: events have no clips")
    # By now the mask has ended every event, so the oldest one's recording is finished.
    page.goto("/events")
    page.locator("ul.events a").last.click()
    page.wait_for_url("**/events/*")

    def has_player() -> bool:
        if page.locator("video#clip").count():
            return True
        page.reload()
        return False

    wait_for(has_player, 40, "the event's finished clip", every=1.0)
    clip_url = page.url + "/clip"
    ranged = page.request.get(clip_url, headers={"Range": "bytes=0-99"})
    assert ranged.status == 206 and len(ranged.body()) == 100
    assert ranged.headers["content-type"] == "video/mp4"
    page.evaluate("const v = document.getElementById('clip'); v.muted = true; v.play()")
    start = page.evaluate("document.getElementById('clip').currentTime")
    wait_for(
        lambda: page.evaluate("document.getElementById('clip').currentTime") > start + 0.5,
        20,
        "the clip to play",
    )
    shot(page, "event-clip")


def test_zone_drawn_in_the_page_lands_in_the_config_with_comments_kept(
    page: Any, camera: Camera
) -> None:
    page.goto("/masks")
    page.click("#new-zone")
    for x, y in [(0.3, 0.5), (0.6, 0.5), (0.6, 0.9)]:
        _click(page, x, y)
    page.click("#close-polygon")
    name = page.locator("input.zone-name").last
    name.fill("front door")  # a space: refused next to the field
    page.click("#save")
    assert "1-32 letters" in page.locator("#polygons li.zone .field-error").inner_text()
    name.fill("door")
    page.click("#save")
    page.wait_for_selector("#saved:has-text('Saved and applied.')")
    text = camera.config.read_text()
    saved = yaml.safe_load(text)
    assert list(saved["zones"]) == ["door"]
    assert [[round(v, 1) for v in p] for p in saved["zones"]["door"]["points"]] == [
        [0.3, 0.5],
        [0.6, 0.5],
        [0.6, 0.9],
    ]
    assert len(saved["motion"]["masks"]) == 1  # the mask saved before is still there
    for comment in ("# Ronda on the porch", "# shown in the page title", "# a camera that never"):
        assert comment in text
    shot(page, "masks-zone")
    live = ARTIFACTS / "live.png"
    docs = Path(__file__).resolve().parent.parent / "docs" / "img"
    if docs.is_dir() and live.exists():
        shutil.copy(live, ARTIFACTS / "live-before-masks.png")


def test_delete_an_event_with_its_snapshot(page: Any, camera: Camera) -> None:
    page.goto("/events")
    page.locator("ul.events a").first.click()
    page.wait_for_url("**/events/*")
    event_id = page.url.rsplit("/", 1)[-1]
    thumbnail = camera.state / "thumbnails" / f"{event_id}.jpg"
    assert thumbnail.exists()
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button.danger")
    page.wait_for_url("**/events")
    assert not thumbnail.exists()
    assert page.request.get(f"/events/{event_id}").status == 404

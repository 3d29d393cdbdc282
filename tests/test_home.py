"""The home page against a real mosquitto: what it hears, what it keeps, what it sends.

Cameras here are MQTT clients publishing exactly what a camera publishes (retained
availability, stats and snapshots; QoS 1 events and thumbnails), so each rule is checked on its
own in a second or two; tests/test_home_browser.py runs three real cameras.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from camera.config import ConfigError, RondaConfig, parse_config
from camera.home.service import Home, password_file
from camera.home.settings import CAMERA_SECTIONS, HomeFile, parse_home_config
from camera.home.store import EventFacts, HomeStore
from camera.home.topics import Heard, parse, subscriptions
from tests.broker import Blackhole, Mosquitto, Subscriber, free_port, wait_until
from tests.cli_helpers import REPO
from tests.web_helpers import Client

PASSWORD = "home-page-password"
KEEPALIVE_S = 5
"""The cameras' ``mqtt.keepalive_s`` at its minimum."""
BROKER_CHECK_S = 6
"""How late mosquitto may notice a silent client past 1.5 keep-alives (it checks
periodically, not at the exact moment)."""
JPEG = b"\xff\xd8 a small picture \xff\xd9"


def home_config(broker: Mosquitto, state: Path, **home: object) -> HomeFile:
    return parse_home_config(
        {
            "store": {"path": str(state)},
            "mqtt": {"host": broker.host, "port": broker.port, "keepalive_s": 5},
            "web": {"host": "127.0.0.1", "port": free_port()},
            "home": home,
        }
    )


class FakeCamera:
    """Publishes what camera ``name`` publishes, nothing more (and its Last Will)."""

    def __init__(self, broker: Mosquitto, name: str, port: int | None = None) -> None:
        self.prefix = f"ronda/{name}"
        self.name = name
        self.client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2)
        self.client.will_set(f"{self.prefix}/availability", "offline", qos=1, retain=True)
        self.client.connect(broker.host, port or broker.port, keepalive=KEEPALIVE_S)
        self.client.loop_start()

    def send(self, suffix: str, payload: bytes | str, *, retain: bool = False) -> None:
        self.client.publish(
            f"{self.prefix}/{suffix}", payload, qos=1, retain=retain
        ).wait_for_publish(5)

    def announce(self, level: str = "normal") -> None:
        self.send("availability", "online", retain=True)
        stats = {"camera": self.name, "governor_level": level, "page": f"http://{self.name}:8080"}
        self.send("stats", json.dumps(stats), retain=True)
        self.send("person/snapshot", JPEG, retain=True)

    def event(self, event_id: str, sequence: int = 1, kind: str = "start") -> None:
        update = {
            "id": event_id,
            "camera": self.name,
            "label": "person",
            "score": 0.9,
            "sequence": sequence,
            "type": kind,
            "start_local": "2026-12-06T04:00:00",
        }
        self.send("events", json.dumps(update))
        self.send(f"events/{event_id}/thumbnail", JPEG)

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def cameras(broker: Mosquitto) -> Iterator[list[FakeCamera]]:
    made = [FakeCamera(broker, name) for name in ("porch", "garden")]
    for camera in made:
        camera.announce()
    yield made
    for camera in made:
        camera.stop()


def started(config: HomeFile) -> Home:
    home = Home(config)
    home.start()
    assert home.listener.subscribed.wait(10)
    return home


def test_topics_name_the_camera_and_what_was_heard() -> None:
    filters = ["ronda/+", "site2/cams/+"]
    assert parse("ronda/porch/availability", filters) == Heard("ronda/porch", "availability")
    assert parse("ronda/porch/pet/snapshot", filters) == Heard("ronda/porch", "snapshot", "pet")
    assert parse("site2/cams/x/events/e1/thumbnail", filters) == Heard(
        "site2/cams/x", "thumbnail", "e1"
    )
    assert parse("ronda/porch/zones/door/person", filters) is None
    assert parse("other/porch/events", filters) is None
    shared = subscriptions(["ronda/+"], "pages")
    assert "$share/pages/ronda/+/events" in shared
    assert "ronda/+/availability" in shared  # retained state never through the shared group


def test_the_home_reads_a_cameras_file_without_loading_the_cameras_stages() -> None:
    camera_only = set(RondaConfig.model_fields) - set(HomeFile.model_fields)
    assert camera_only == CAMERA_SECTIONS  # a new camera section must be skipped here too
    config = parse_home_config({"camera": {"name": "porch"}, "mqtt": {"host": "broker.lan"}})
    assert config.mqtt.host == "broker.lan"
    with pytest.raises(ConfigError, match=r"mqtt\.hots: unknown key"):
        parse_home_config({"mqtt": {"hots": "x"}})
    probe = (
        "import sys, camera.cli, camera.cli.home, camera.home.service; "
        "print(sorted(m for m in ('cv2', 'numpy', 'av', 'camera.config') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO)
    assert done.stdout.strip() == "[]", done.stderr  # about 55 MB the page never uses


def test_camera_filters_are_checked() -> None:
    for bad in ("ronda/#", "ronda/+/+", "ron+da", "$SYS/+"):
        with pytest.raises(ConfigError, match=r"home\.cameras"):
            parse_config({"home": {"cameras": [bad]}})


def test_an_event_is_one_row_whatever_arrives_twice(tmp_path: Path) -> None:
    store = HomeStore(tmp_path, keep_events=100)
    facts = EventFacts("e1", "person", 0.8, 1, "start", 10.0, None, None)
    store.event("ronda/porch", "porch", facts)
    store.event("ronda/porch", "porch", facts)  # QoS 1 redelivery
    store.event("ronda/porch", "porch", EventFacts("e1", "person", 0.9, 3, "end", 10.0, 20.0, None))
    store.event("ronda/porch", "porch", EventFacts("e1", "pet", 0.1, 2, "update", 10.0, None, None))
    store.thumbnail("ronda/porch", "e1", JPEG)
    [row] = store.timeline(10)
    assert (row.event_id, row.kind, row.score, row.thumbnail) == ("e1", "end", 0.9, True)
    store.event("ronda/garden", "garden", facts)  # the same id on another camera is another event
    assert store.count_events() == 2


def test_the_page_shows_every_camera_and_sends_whole_home_commands(
    broker: Mosquitto, cameras: list[FakeCamera], tmp_path: Path
) -> None:
    config = home_config(broker, tmp_path / "state")
    password_file(config).set(PASSWORD)
    commands = Subscriber(broker.host, broker.port, topic="ronda/+/+/set").start()
    home = started(config)
    try:
        client = Client(home.server.port)
        assert client.request("GET", "/api/home").status == 401  # login first, as on a camera
        assert client.request("POST", "/arm").status == 401
        assert client.login(PASSWORD).status == 303
        assert wait_until(lambda: len(api(client)["cameras"]) == 2, 10)
        for camera in cameras:
            camera.event(f"{camera.name}-1")
        assert wait_until(lambda: len(api(client)["events"]) == 2, 10)
        assert all(e["thumbnail"] for e in api(client)["events"])
        listed = api(client)["cameras"]
        assert {c["name"] for c in listed} == {"porch", "garden"}
        assert all(
            c["online"] and c["level"] == "normal" and c["snapshots"] == ["person"] for c in listed
        )
        page = client.request("GET", "/").data  # type: ignore[attr-defined]
        assert b'href="http://porch:8080"' in page and b'href="http://garden:8080"' in page

        form = {"Content-Type": "application/x-www-form-urlencoded"}
        assert client.request("POST", "/arm", b"", form).status == 403  # no CSRF token
        token = client.csrf("/")
        assert client.request("POST", "/arm", f"csrf={token}".encode(), form).status == 303
        assert commands.wait_for(lambda s: len(s.on("/armed/set")) == 2, 10)
        assert {(m.topic, m.payload) for m in commands.on("/armed/set")} == {
            ("ronda/porch/armed/set", b"ON"),
            ("ronda/garden/armed/set", b"ON"),
        }
        body = f"csrf={token}&minutes=45".encode()
        assert client.request("POST", "/snooze", body, form).status == 303
        assert commands.wait_for(lambda s: len(s.on("/snooze/set")) == 2, 10)
        assert {m.payload for m in commands.on("/snooze/set")} == {b"45"}
        too_long = f"csrf={token}&minutes=1441".encode()
        assert client.request("POST", "/snooze", too_long, form).status == 400
        assert not any(m.retain for m in commands.messages)  # a command is never retained

        # The Home Assistant entity: one command on the home's topic, one per camera.
        cameras[0].client.publish("ronda-home/armed/set", "OFF", qos=1).wait_for_publish(5)
        assert commands.wait_for(
            lambda s: [m.payload for m in s.on("/armed/set")].count(b"OFF") == 2, 10
        )
        # Its state follows the cameras' own retained state.
        watcher = Subscriber(broker.host, broker.port, topic="#").start()
        for camera in cameras:
            camera.send("armed", "ON", retain=True)
        assert watcher.wait_for(
            lambda s: any(m.payload == b"ON" for m in s.on("ronda-home/armed")), 10
        )
        assert watcher.wait_for(lambda s: bool(s.on("switch/ronda_home/armed/config")), 10)
        watcher.stop()
    finally:
        home.close()
        commands.stop()


def test_a_camera_cut_off_silently_is_offline_within_one_and_a_half_keepalives(
    broker: Mosquitto, tmp_path: Path
) -> None:
    """A pulled cable: no FIN, no RST, only the broker's keep-alive notices (MQTT: after 1.5
    keep-alives without a packet) and publishes the Last Will, which the page shows."""
    cable = Blackhole(broker.port).start()
    attic = FakeCamera(broker, "attic", port=cable.port)
    attic.announce()
    home = started(home_config(broker, tmp_path / "state"))
    try:
        assert wait_until(lambda: [c.online for c in home.store.cameras()] == [True], 10)
        cut = time.monotonic()
        attic.client.loop_stop()  # it stops pinging, as a dead camera does
        cable.cut()
        assert wait_until(lambda: [c.online for c in home.store.cameras()] == [False], 20)
        elapsed = time.monotonic() - cut
        # MQTT's 1.5 keep-alives, plus mosquitto's own check, which runs every few seconds
        # (11.4 s measured with mosquitto 2.0 for 5 s); never before one keep-alive.
        assert KEEPALIVE_S <= elapsed <= 1.5 * KEEPALIVE_S + BROKER_CHECK_S, elapsed
    finally:
        home.close()
        cable.stop()


def test_events_sent_while_the_page_was_down_arrive_once(
    broker: Mosquitto, cameras: list[FakeCamera], tmp_path: Path
) -> None:
    config = home_config(broker, tmp_path / "state")
    home = started(config)
    porch = cameras[0]
    porch.event("before")
    assert wait_until(lambda: home.store.count_events() == 1, 10)
    home.close()
    porch.event("while-down-1")
    porch.event("while-down-2")
    porch.event("while-down-2", sequence=2, kind="end")
    home = started(config)
    try:
        assert wait_until(lambda: home.store.count_events() == 3, 10)
        ids = [e.event_id for e in home.store.timeline(10)]
        assert sorted(ids) == ["before", "while-down-1", "while-down-2"]
        assert [e.kind for e in home.store.timeline(10) if e.event_id == "while-down-2"] == ["end"]
    finally:
        home.close()


def api(client: Client) -> dict:
    response = client.request("GET", "/api/home")
    assert response.status == 200
    return json.loads(response.data)  # type: ignore[attr-defined]


def test_two_copies_in_one_share_group_keep_each_event_once(
    broker: Mosquitto, cameras: list[FakeCamera], tmp_path: Path
) -> None:
    """Side by side (an upgrade, a second box on one disk): the broker gives each event to one
    copy of the group, both write the one store, both pages show every camera."""
    state = tmp_path / "state"
    first = started(home_config(broker, state, share_group="pages", client_id="home-a"))
    second = started(home_config(broker, state, share_group="pages", client_id="home-b"))
    try:
        for number in range(10):
            cameras[number % 2].event(f"shared-{number}")
        assert wait_until(lambda: first.store.count_events() == 10, 10)
        assert {len(first.listener.store.cameras()), len(second.store.cameras())} == {2}
        heard = first.listener.event_updates, second.listener.event_updates
        assert sum(heard) == 10 and min(heard) > 0, heard  # split between them, none twice
        assert len({e.event_id for e in second.store.timeline(20)}) == 10
    finally:
        first.close()
        second.close()


def test_an_unusable_state_directory_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    config = tmp_path / "home.yaml"
    config.write_text(f"store:\n  path: {blocker}\nweb:\n  port: {free_port()}\n")
    done = subprocess.run(
        [sys.executable, "-m", "camera", "home", "--config", str(config)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert done.returncode == 1
    assert (
        done.stderr.startswith("ronda: home: cannot keep its store in")
        and "Traceback" not in done.stderr
    )
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr

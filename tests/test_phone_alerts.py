"""Phone alerts end to end: Ronda -> mosquitto -> Home Assistant 2024.1 running the notification
blueprint -> mobile_app -> the phone's push URL.

Real parts only: the real Runtime replays the demo scene (a person, then a cat) twice in real
time with the real detector; a real mosquitto; a real Home Assistant (separate venv) with the
MQTT integration added through its config flow, four phones registered through ``mobile_app``'s
registration API as the companion app does, the blueprint saved over the websocket API as the
import dialog does, and one automation per phone created through the automation editor's REST
endpoint.  The phones' push URL is a loopback server that records every push and, like a phone,
fetches the notification's image through Home Assistant at once.

The four automations differ in one input each, so every suppression is shown against a push
that did happen: alice (person, cooldown 60 s) gets the first person and its better picture,
not the second person 10 s after the first left; bob (person and pet, no cooldown) gets all of
them, the cat included; carol (quiet hours around now) gets nothing; dave (no updates) gets each
person once.  Home Assistant's own traces say which condition stopped each run.

Heavy (about a minute): skipped with the reason when the Home Assistant venv is absent.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from camera.app import RunOptions, Runtime, replay_files
from camera.config import parse_config
from camera.events import EventUpdate
from camera.sources import open_replay
from tests.broker import Mosquitto, wait_until
from tests.homeassistant.alerts import (
    BLUEPRINT,
    SOURCE_URL,
    create_automation,
    install_blueprint,
    phone_alert_home_assistant,
    trace,
    traces,
)
from tests.homeassistant.harness import REPO, HomeAssistant, ha_venv, venv_problem
from tests.homeassistant.phone import Push, PushGateway

pytestmark = pytest.mark.slow

HA_ZONE = "America/New_York"
RONDA_ZONE = "Asia/Kathmandu"  # +05:45: a message in the wrong zone cannot pass by luck
CAMERA, SHOWN = "porch", "front porch"
PHONES = ("alice", "bob", "carol", "dave")
CONDITIONS = ["type", "camera", "label", "zones", "cooldown", "quiet hours"]
"""The blueprint's conditions, in order (``condition/<index>`` in a trace)."""


@dataclass(frozen=True)
class Emitted:
    """An event update as Ronda emitted it, with the thumbnail it published."""

    update: EventUpdate
    thumbnail: bytes | None


@pytest.fixture(scope="module")
def home_assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HomeAssistant]:
    venv = ha_venv()
    if problem := venv_problem(venv):
        pytest.skip(problem)
    ha = phone_alert_home_assistant(venv, tmp_path_factory.mktemp("home-assistant"), HA_ZONE)
    ha.start()
    yield ha
    ha.stop()


@pytest.fixture(scope="module")
def module_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    server = Mosquitto(tmp_path_factory.mktemp("broker"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def ronda_zone() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TZ", RONDA_ZONE)
        time.tzset()
        yield
    time.tzset()


def test_blueprint_import_url_is_one_home_assistant_accepts(home_assistant: HomeAssistant) -> None:
    """The README's import link: Home Assistant's importer maps it to this file in the repo."""
    raw = subprocess.run(
        [
            str(ha_venv() / "bin" / "python"),
            "-c",
            "import sys, homeassistant.bootstrap; "  # bootstrap first: import order
            "from homeassistant.components.blueprint.importer import _get_github_import_url; "
            "print(_get_github_import_url(sys.argv[1]))",
            SOURCE_URL,
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.strip()
    assert raw == (
        "https://raw.githubusercontent.com/ronda-camera/ronda/main/"
        "config/homeassistant/ronda_notify.yaml"
    )
    assert f"source_url: {SOURCE_URL}\n" in BLUEPRINT.read_text()
    readme = (REPO / "README.md").read_text()
    assert "blueprint_url=" + SOURCE_URL.replace(":", "%3A").replace("/", "%2F") in readme


def test_pushes_reach_the_phones_as_the_blueprint_says(
    tmp_path: Path,
    module_broker: Mosquitto,
    home_assistant: HomeAssistant,
    demo_scene: Path,
    ronda_zone: None,
) -> None:
    ha = home_assistant
    log_start = len(ha.log_lines())
    ha.add_mqtt(module_broker.host, module_broker.port)
    install_blueprint(ha)
    gateway = PushGateway(fetch_image=ha.get).start()
    phones = {name: ha.register_phone(name, gateway.url(name)) for name in PHONES}

    emitted: list[Emitted] = []

    class Collect:
        def emit(self, update: EventUpdate, thumbnail: bytes | None) -> None:
            emitted.append(Emitted(update, thumbnail))

        def close(self) -> None:
            pass

    config = parse_config(
        {
            "camera": {"name": CAMERA, "display_name": SHOWN},
            "store": {"path": str(tmp_path / "state")},
            "mqtt": {"host": module_broker.host, "port": module_broker.port},
            "governor": {"enabled": False},
        }
    )
    runtime = Runtime(config, RunOptions(extra_sinks=[Collect()], use_governor=False))
    try:
        # Ronda's discovery made the camera a device: the automations are made for it.
        assert ha.wait_for_state(f"binary_sensor.ronda_{CAMERA}_person", timeout=30), ha.log_tail()
        camera = ha.template(f"{{{{ device_id('binary_sensor.ronda_{CAMERA}_person') }}}}")
        now_there = datetime.now(ZoneInfo(HA_ZONE))
        quiet = {
            "quiet_start": (now_there - timedelta(hours=1)).strftime("%H:%M:%S"),
            "quiet_end": (now_there + timedelta(hours=1)).strftime("%H:%M:%S"),
        }
        everything = {"labels": ["person", "pet"], "cooldown": 0}
        inputs = {
            "alice": {"labels": ["person"], "cooldown": 60},
            "bob": everything,
            "carol": {**everything, **quiet},
            "dave": {"labels": ["person"], "cooldown": 0, "notify_on_update": False},
        }
        for name, extra in inputs.items():
            create_automation(ha, name, {"cameras": [camera], "phones": [phones[name]], **extra})

        stop = threading.Event()
        replay_files(runtime, (open_replay(demo_scene, realtime=True) for _ in range(2)), stop)
        assert runtime.drain() == 0
    finally:
        runtime.close()

    updates = [e.update for e in emitted]
    messages = len(updates)
    people = [e for e in emitted if e.update.label == "person" and e.update.type != "end"]
    first, second = (
        people[0].update,
        next(e.update for e in people if e.update.id != people[0].update.id),
    )
    first_person = [e for e in people if e.update.id == first.id]
    assert [e.update.type for e in first_person] == ["start", "update"], updates
    assert second.type == "start" and second.label_idle_s is not None
    assert second.label_idle_s < 60, "the second person must fall inside alice's cooldown"
    pushable = [
        e for e in emitted if e.update.type != "end" and e.update.label in ("person", "pet")
    ]
    assert any(e.update.label == "pet" for e in pushable)

    # Every automation saw every event message; then the pushes are all there.
    for name in PHONES:
        assert wait_until(lambda n=name: len(traces(ha, n)) == messages, 30), (name, ha.log_tail())
    assert wait_until(lambda: len(gateway.pushes("bob")) == len(pushable), 30)
    assert all(push.fetched.wait(10) for push in gateway.pushes())

    # bob: every start and update of a person or the cat, with its picture at push time.
    check_pushes(gateway.pushes("bob"), pushable)
    # alice: the first person and its better picture, in one notification; the cat is not hers
    # and the second person came within the cooldown.
    check_pushes(gateway.pushes("alice"), first_person)
    assert list(gateway.tray("alice")) == [f"ronda-{first.id}"]
    assert gateway.pushes("alice")[1].data["alert_once"] is True  # the update replaces silently
    assert stopped_by(ha, "alice") == {
        **{u.id: "label" for u in updates if u.label == "pet" and u.type != "end"},
        **{u.id: "cooldown" for u in updates if u.label == "person" and u.id != first.id},
    }
    # carol: quiet hours stopped every start and update.
    assert gateway.pushes("carol") == []
    assert set(stopped_by(ha, "carol").values()) == {"quiet hours"}
    # dave: updates off, so each person once.
    check_pushes(gateway.pushes("dave"), [e for e in people if e.update.type == "start"])

    problems = [
        line
        for line in ha.log_lines()[log_start:]
        if " ERROR " in line
        or (" WARNING " in line and any(word in line.lower() for word in NOTIFY_WORDS))
    ]
    assert problems == [], "\n".join(problems)
    gateway.stop()


NOTIFY_WORDS = ("template", "blueprint", "automation", "script", "mobile_app", "notify")
"""A warning naming one of these during the test is a blueprint or template problem."""


def stopped_by(ha: HomeAssistant, phone: str) -> dict[str, str]:
    """Event id -> the blueprint condition that stopped the run, for every start or update
    Home Assistant did not push (ends are not pushed by design and left out)."""
    stopped: dict[str, str] = {}
    for short in traces(ha, phone):
        if short.get("script_execution") != "failed_conditions":
            continue
        steps = trace(ha, phone, short["run_id"])["trace"]
        event = steps["trigger/0"][0]["changed_variables"]["trigger"]["payload_json"]
        failed = [
            int(path.split("/")[1])
            for path, runs in steps.items()
            if path.count("/") == 1
            and path.startswith("condition/")
            and runs[0]["result"]["result"] is False
        ]
        if event["type"] != "end":  # a start and its updates stop for the same reason
            reason = CONDITIONS[failed[0]]
            assert stopped.setdefault(event["id"], reason) == reason, (event, failed)
    return stopped


def check_pushes(pushes: list[Push], expected: list[Emitted]) -> None:
    """Title, message, tag, image (URL and the JPEG served at push time), actions."""
    assert [(p.tag, p.body["message"].endswith("better picture")) for p in pushes] == [
        (f"ronda-{e.update.id}", e.update.type == "update") for e in expected
    ]
    for push, (update, thumbnail) in zip(
        pushes, ((e.update, e.thumbnail) for e in expected), strict=True
    ):
        what = "Cat" if update.subclass == "cat" else update.label.capitalize()
        assert push.body["title"] == f"{what} at {SHOWN}"
        at = datetime.fromisoformat(update.start_local).astimezone(ZoneInfo(HA_ZONE))
        assert push.body["message"].startswith(at.strftime("%H:%M"))
        data = push.data
        assert data["image"] == f"/api/image_proxy/image.ronda_{CAMERA}_{update.label}_snapshot"
        assert push.image is not None
        status, body, content_type = push.image
        assert (status, content_type) == (200, "image/jpeg")
        assert body == thumbnail, f"{push.tag}: the image served is not this update's snapshot"
        link = urlsplit(data["clickAction"])
        assert link.path == "/logbook"
        query = parse_qs(link.query)
        assert query["entity_id"] == [f"binary_sensor.ronda_{CAMERA}_{update.label}"]
        assert datetime.fromisoformat(query["start_date"][0]) < at
        assert data["url"] == data["clickAction"]
        assert data["actions"] == [
            {"action": "URI", "title": "Open in Home Assistant", "uri": data["clickAction"]}
        ]
        assert data["alert_once"] is (update.type == "update")
        assert push.body["push_token"] == f"token-{push.phone}"
        json.dumps(push.body)  # plain JSON all the way down

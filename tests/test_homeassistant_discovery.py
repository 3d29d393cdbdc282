"""Home Assistant itself reads Ronda's discovery: a real Home Assistant 2024.1 (separate venv,
``tests/homeassistant/setup_ha.sh``), a real mosquitto and the real Runtime replaying the demo
scene with the real detector.

Checked in Home Assistant: the camera appears as one device with every entity, person ON while
the person is in the scene (and the zone sensor counts them on the floor), the sensors show the
stats, the image entity serves the JPEG Ronda
published, entities go unavailable when Ronda stops, a restarted Ronda gets the same entities
back (stable unique ids: no ``_2`` duplicates in the registry), and ``remove`` deletes them.

Heavy (about a minute, plus the venv): skipped with the reason when the venv is absent.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from camera.app import RunOptions, Runtime, replay_files
from camera.config import RondaConfig, parse_config
from camera.mqtt import MqttLink, Topics
from camera.mqtt.config import DiscoveryConfig
from camera.mqtt.discovery import attach_discovery
from camera.pipeline.loop import FrameOutcome
from camera.sources import open_replay
from camera.store import Database, Outbox, OutboxConfig
from tests.broker import Mosquitto, wait_until
from tests.conftest import CANARY_PASSWORD
from tests.homeassistant.harness import HomeAssistant, ha_venv
from tests.test_governor_sensors import power_supply, thermal_zone

pytestmark = pytest.mark.slow

CAMERA = "test"
ENTITIES = {
    "binary_sensor.ronda_test_person",
    "binary_sensor.ronda_test_pet",
    "binary_sensor.ronda_test_motion",
    "image.ronda_test_person_snapshot",
    "image.ronda_test_pet_snapshot",
    "sensor.ronda_test_soc_temp_c",
    "sensor.ronda_test_battery_pct",
    "sensor.ronda_test_fps",
    "sensor.ronda_test_governor_level",
    "sensor.ronda_test_detector_ms",
    "sensor.ronda_test_detector_backend",
    "sensor.ronda_test_outbox_depth",
    "sensor.ronda_test_dead_letters",
    "sensor.ronda_test_events_today",
    "sensor.ronda_test_light_state",
    # one sensor per zone and label: objects in the zone now
    "sensor.ronda_test_zone_floor_person",
    "sensor.ronda_test_zone_floor_pet",
    # the owner's controls (docs/controls.md)
    "switch.ronda_test_armed",
    "switch.ronda_test_privacy",
    "switch.ronda_test_recording",
    "number.ronda_test_snooze",
    "button.ronda_test_snooze_end",
    "select.ronda_test_sensitivity",
    "number.ronda_test_threshold_person",
    "number.ronda_test_threshold_pet",
    "sensor.ronda_test_camera_state",
}


@pytest.fixture(scope="module")
def home_assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HomeAssistant]:
    venv = ha_venv()
    if not (venv / "bin" / "hass").exists():
        pytest.skip(
            f"Home Assistant venv {venv} is absent: build it with tests/homeassistant/setup_ha.sh"
        )
    ha = HomeAssistant(venv, tmp_path_factory.mktemp("home-assistant"))
    ha.start()
    yield ha
    ha.stop()


def ronda_config(tmp_path: Path, broker: Mosquitto) -> RondaConfig:
    sysfs = tmp_path / "sys"
    thermal_zone(sysfs, 0, "cpu-thermal", "57300")
    power_supply(sysfs, "BAT0", type="Battery", capacity="64", status="Discharging")
    return parse_config(
        {
            "camera": {"name": CAMERA},
            "store": {"path": str(tmp_path / "state")},
            "mqtt": {
                "host": broker.host,
                "port": broker.port,
                "reconnect_min_s": 0.1,
                "password": CANARY_PASSWORD,
            },
            # the floor of the demo room, where the person and the cat walk
            "zones": {"floor": {"points": [[0, 0.6], [1, 0.6], [1, 1], [0, 1]]}},
            "governor": {
                "sensors": {
                    "sysfs_root": str(sysfs),
                    "vcgencmd": str(tmp_path / "no-vcgencmd"),
                    "throttle": {"enabled": False},
                }
            },
        }
    )


def restart_link(config: RondaConfig, tmp_path: Path, discovery: DiscoveryConfig) -> MqttLink:
    """Ronda started again (without a camera): the same discovery from a new process state."""
    database = Database(tmp_path / "restart.sqlite3")
    topics = Topics(config.topic_prefix)
    link = MqttLink(
        config.mqtt,
        Outbox(database, OutboxConfig()),
        client_id=config.client_id,
        will_topic=topics.availability,
    )
    attach_discovery(link, discovery, topics, CAMERA, zones=list(config.zones))
    link.start()
    return link


def test_home_assistant_discovers_the_camera(
    tmp_path: Path, broker: Mosquitto, home_assistant: HomeAssistant, demo_scene: Path
) -> None:
    ha = home_assistant
    ha.add_mqtt(broker.host, broker.port)
    config = ronda_config(tmp_path, broker)
    seen_on: list[str] = []
    person_snapshot: list[bytes] = []

    class LastPersonThumbnail:
        def emit(self, update, thumbnail: bytes | None) -> None:
            if thumbnail and update.label == "person":
                person_snapshot.append(thumbnail)

        def close(self) -> None:
            pass

    def person_on_in_home_assistant(outcome: FrameOutcome) -> None:
        """While the person is in the scene, Home Assistant shows the person sensor on."""
        started = any(u.type == "start" and u.label == "person" for u in outcome.updates)
        if started and ha.wait_for_state("binary_sensor.ronda_test_person", "on", timeout=30):
            seen_on.append("person")
        if started and ha.wait_for_state("sensor.ronda_test_zone_floor_person", "1", timeout=30):
            seen_on.append("person on the floor")

    runtime = Runtime(
        config,
        RunOptions(
            extra_sinks=[LastPersonThumbnail()],
            hooks=[person_on_in_home_assistant],
            live_camera=True,  # the controls, as ``ronda run`` has them
        ),
    )
    try:
        replay_files(runtime, [open_replay(demo_scene)], threading.Event())
        runtime.drain()
        assert seen_on == ["person", "person on the floor"], ha.log_tail()

        # One device, named after the camera, holding every entity.
        device = ha.template("{{ device_id('binary_sensor.ronda_test_person') }}")
        assert ha.template(f"{{{{ device_attr('{device}', 'name') }}}}") == "Ronda test"
        assert ha.template(f"{{{{ device_attr('{device}', 'manufacturer') }}}}") == "Ronda"
        listed = ha.template(f"{{{{ device_entities('{device}') | sort | join(',') }}}}")
        assert set(listed.split(",")) == ENTITIES

        # States, from the retained state topics and the stats JSON.
        assert ha.wait_for_state("binary_sensor.ronda_test_person", "off")
        assert ha.wait_for_state("binary_sensor.ronda_test_pet", "off")
        assert ha.wait_for_state("sensor.ronda_test_soc_temp_c", "57.3")
        assert ha.wait_for_state("sensor.ronda_test_battery_pct", "64.0")
        assert ha.wait_for_state("sensor.ronda_test_governor_level", "normal")
        assert ha.wait_for_state("sensor.ronda_test_detector_backend", "cpu")
        assert ha.wait_for_state("sensor.ronda_test_events_today", "2")
        assert ha.wait_for_state("sensor.ronda_test_dead_letters", "0")
        assert ha.wait_for_state("sensor.ronda_test_light_state", "day")  # the demo's room
        # Everyone left: the zone counts are back to 0, with their unit.
        assert ha.wait_for_state("sensor.ronda_test_zone_floor_person", "0")
        assert ha.wait_for_state("sensor.ronda_test_zone_floor_pet", "0")
        floor = ha.state("sensor.ronda_test_zone_floor_pet")
        assert floor["attributes"]["unit_of_measurement"] == "pets"
        assert float(ha.state_value("sensor.ronda_test_fps")) > 0
        temperature = ha.state("sensor.ronda_test_soc_temp_c")
        assert temperature["attributes"]["unit_of_measurement"] == "°C"
        assert temperature["attributes"]["device_class"] == "temperature"

        # The controls read Ronda's retained state, and command it through Home Assistant.
        first = {
            "switch.ronda_test_armed": "on",
            "switch.ronda_test_privacy": "off",
            "number.ronda_test_snooze": "0",
            "number.ronda_test_threshold_person": "0.5",
            "select.ronda_test_sensitivity": "medium",
            "sensor.ronda_test_camera_state": "watching",
        }
        assert all(ha.wait_for_state(entity, state) for entity, state in first.items()), {
            entity: ha.state_value(entity) for entity in first
        }
        ha.call_service(
            "select", "select_option",
            {"entity_id": "select.ronda_test_sensitivity", "option": "high"},
        )  # fmt: skip
        ha.call_service(
            "number", "set_value", {"entity_id": "number.ronda_test_snooze", "value": 20}
        )
        controls = runtime.controls
        assert controls is not None
        assert wait_until(lambda: controls.current.sensitivity == "high", 10)
        assert ha.wait_for_state("select.ronda_test_sensitivity", "high")
        assert ha.wait_for_state("number.ronda_test_snooze", "20")
        assert ha.wait_for_state("sensor.ronda_test_camera_state", "snoozed")
        ha.call_service("button", "press", {"entity_id": "button.ronda_test_snooze_end"})
        assert ha.wait_for_state("number.ronda_test_snooze", "0")
        assert controls.current.snooze_until is None

        # The image entity serves the JPEG of the last person, byte for byte.
        assert ha.wait_for_state("image.ronda_test_person_snapshot")
        status, body, content_type = ha.get("/api/image_proxy/image.ronda_test_person_snapshot")
        assert (status, content_type) == (200, "image/jpeg")
        assert body == person_snapshot[-1]
    finally:
        runtime.close()

    # Ronda stopped: its entities are unavailable, not stale.
    assert ha.wait_for_state("binary_sensor.ronda_test_person", "unavailable")

    # Home Assistant restarted: its registry holds each unique id once, derived from the name.
    ha.stop()
    registry = {
        e["unique_id"]: e["entity_id"] for e in ha.entity_registry() if e["platform"] == "mqtt"
    }
    assert registry == {entity.split(".")[1]: entity for entity in ENTITIES}
    ha.start()

    # Ronda restarted too: the same entities come back, available, none duplicated.
    link = restart_link(config, tmp_path, DiscoveryConfig())
    try:
        assert ha.wait_for_state("binary_sensor.ronda_test_person", "off")
        assert mqtt_entities(ha) == ENTITIES
    finally:
        link.stop()

    # ``remove``: Home Assistant deletes the entities.
    link = restart_link(config, tmp_path, DiscoveryConfig(remove=True))
    try:
        assert link.wait_drained(10)
        assert wait_until(lambda: mqtt_entities(ha) == set(), 20, interval=0.2)
    finally:
        link.stop(publish_offline=False)


def mqtt_entities(ha: HomeAssistant) -> set[str]:
    listed = ha.template("{{ integration_entities('mqtt') | sort | join(',') }}")
    return set(listed.split(",")) - {""}

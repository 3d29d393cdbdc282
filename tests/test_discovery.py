"""Home Assistant discovery: the payloads (cheap, always run) and their life on a real broker
(retained, re-sent when Home Assistant says ``online``, removable).  Home Assistant itself
reads them in tests/test_homeassistant_discovery.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from camera.app import RunOptions, Runtime
from camera.config import RondaConfig, parse_config
from camera.mqtt import MqttConfig, Topics
from camera.mqtt.config import DiscoveryConfig
from camera.mqtt.discovery import STAT_SENSORS, DiscoveryPublisher, attach_discovery
from tests.broker import Mosquitto, Subscriber
from tests.link_helpers import PREFIX, make_link

TOPICS = Topics(PREFIX)
CONTROL_ENTITIES = (
    "armed", "privacy", "recording", "snooze", "snooze_end", "sensitivity",
    "threshold_person", "threshold_pet", "camera_state",
)  # fmt: skip


class NoLink:
    """Stands in for the link where only the payloads are looked at."""

    def put_state(self, *args: object, **kwargs: object) -> None: ...

    def subscribe(self, *args: object) -> None: ...


def publisher(camera: str = "front-door", **config: object) -> DiscoveryPublisher:
    return DiscoveryPublisher(
        NoLink(), DiscoveryConfig(**config), Topics(f"ronda/{camera}"), camera
    )  # type: ignore[arg-type]


def by_object(configs: dict[str, dict]) -> dict[str, dict]:
    return {topic.split("/")[-2]: payload for topic, payload in configs.items()}


def test_one_device_with_every_entity() -> None:
    configs = publisher().configs()
    assert all(
        t.startswith("homeassistant/")
        and t.endswith("/ronda_front-door/" + t.split("/")[-2] + "/config")
        for t in configs
    )
    entities = by_object(configs)
    assert set(entities) == {
        "person", "pet", "motion", "person_snapshot", "pet_snapshot",
        *(s.key for s in STAT_SENSORS), *CONTROL_ENTITIES,
    }  # fmt: skip
    devices = {json.dumps(p["device"], sort_keys=True) for p in configs.values()}
    assert len(devices) == 1  # all on one device
    device = next(iter(configs.values()))["device"]
    assert device["identifiers"] == ["ronda_front-door"]
    unique_ids = [p["unique_id"] for p in configs.values()]
    assert len(set(unique_ids)) == len(unique_ids)
    for payload in configs.values():
        assert payload["availability_topic"] == "ronda/front-door/availability"
        assert (payload["payload_available"], payload["payload_not_available"]) == (
            "online",
            "offline",
        )


def test_unique_ids_are_derived_from_the_camera_name_only() -> None:
    """Stable across restarts and re-installs (nothing random), distinct between cameras."""
    first, again, other = (
        publisher().configs(),
        publisher().configs(),
        publisher("garden").configs(),
    )
    assert first == again
    assert not {p["unique_id"] for p in first.values()} & {p["unique_id"] for p in other.values()}


def test_binary_sensors_images_and_sensors_read_the_topics_ronda_publishes() -> None:
    topics = Topics("ronda/front-door")
    entities = by_object(publisher().configs())
    for label in ("person", "pet"):
        sensor = entities[label]
        assert sensor["state_topic"] == topics.label_state(label)
        assert (sensor["payload_on"], sensor["payload_off"]) == ("ON", "OFF")
        assert sensor["device_class"] == "occupancy"
        image = entities[f"{label}_snapshot"]
        assert image["image_topic"] == topics.label_snapshot(label)
        assert image["content_type"] == "image/jpeg"
    assert entities["motion"]["device_class"] == "motion"
    for sensor in STAT_SENSORS:
        payload = entities[sensor.key]
        assert payload["state_topic"] == topics.stats
        assert payload["value_template"] == f"{{{{ value_json.{sensor.key} }}}}"
        assert ("entity_category" in payload) == sensor.diagnostic
    assert entities["soc_temp_c"]["unit_of_measurement"] == "°C"
    assert entities["battery_pct"]["device_class"] == "battery"


def test_controls_command_on_their_own_topics_and_read_their_retained_state() -> None:
    topics = Topics("ronda/front-door")
    configs = publisher().configs()
    entities = by_object(configs)
    components = {topic.split("/")[1] for topic in configs if "/ronda_front-door/" in topic}
    assert {"switch", "number", "select", "button"} <= components
    for control in ("armed", "privacy", "recording"):
        switch = entities[control]
        assert switch["command_topic"] == f"ronda/front-door/{control}/set"
        assert switch["state_topic"] == topics.control_state(control)
        assert (switch["payload_on"], switch["state_off"]) == ("ON", "OFF")
    assert entities["snooze"]["command_topic"] == "ronda/front-door/snooze/set"
    assert (entities["snooze"]["min"], entities["snooze"]["max"]) == (0, 1440)
    assert entities["snooze_end"]["command_topic"] == "ronda/front-door/snooze/set"
    assert entities["snooze_end"]["payload_press"] == "0"
    assert entities["sensitivity"]["options"] == ["low", "medium", "high"]
    assert entities["threshold_person"]["command_topic"] == "ronda/front-door/threshold/person/set"
    assert entities["threshold_pet"]["state_topic"] == "ronda/front-door/threshold/pet"
    assert entities["camera_state"]["state_topic"] == "ronda/front-door/controls"
    assert entities["camera_state"]["value_template"] == "{{ value_json.state }}"


def test_disabled_discovery_registers_nothing(tmp_path: Path) -> None:
    link, _ = make_link(tmp_path, 1)
    assert attach_discovery(link, DiscoveryConfig(enabled=False), TOPICS, "test") is None
    assert link.message_hooks == {}


def retained_configs(broker: Mosquitto) -> Subscriber:
    """A late subscriber: it sees only what the broker retained."""
    return Subscriber(broker.host, broker.port, topic="homeassistant/#").start()


def test_configs_are_retained_and_re_sent_when_home_assistant_comes_online(
    tmp_path: Path, broker: Mosquitto
) -> None:
    link, _ = make_link(tmp_path, broker.port)
    discovery = attach_discovery(link, MqttConfig().discovery, TOPICS, "test")
    assert discovery is not None
    expected = len(discovery.configs())
    link.start()
    try:
        assert link.connected.wait(10)
        assert link.wait_drained(5)  # every config acknowledged by the broker
        late = retained_configs(broker)
        assert late.wait_for(lambda s: len(s.messages) == expected)
        assert all(m.retain for m in late.messages)
        assert {m.topic for m in late.messages} == set(discovery.configs())
        # Home Assistant restarted: it announces itself and gets every config again, live.
        late.client.publish("homeassistant/status", b"online", qos=1)
        assert late.wait_for(lambda s: sum(not m.retain for m in s.on("/config")) == expected)
        late.stop()
    finally:
        link.stop()


def test_remove_publishes_empty_retained_configs(tmp_path: Path, broker: Mosquitto) -> None:
    link, _ = make_link(tmp_path, broker.port)
    attach_discovery(link, DiscoveryConfig(), TOPICS, "test")
    link.start()
    assert link.connected.wait(10)
    assert link.wait_drained(5)
    link.stop()
    witness = retained_configs(broker)
    assert witness.wait_for(lambda s: len(s.messages) > 0)
    witness.stop()

    link, _ = make_link(tmp_path, broker.port)
    attach_discovery(link, DiscoveryConfig(remove=True), TOPICS, "test")
    link.start()
    assert link.connected.wait(10)
    assert link.wait_drained(5)
    link.stop()
    late = retained_configs(broker)
    # The broker sends retained messages right after the subscription, before a later live one.
    late.client.publish("homeassistant/marker", b"after the retained ones", qos=1)
    assert late.wait_for(lambda s: bool(s.on("/marker")))
    # Nothing retained any more: Home Assistant deletes the entities on the empty payloads.
    assert late.on("/config") == []
    late.stop()


@pytest.mark.parametrize("prefix", ["homeassistant", "ha-test"])
def test_prefix_is_configurable(prefix: str) -> None:
    configs = publisher(prefix=prefix).configs()
    assert all(topic.startswith(f"{prefix}/") for topic in configs)
    assert publisher(prefix=prefix).status_topic == f"{prefix}/status"


def test_a_sensor_per_zone_and_label_reads_the_retained_occupancy_count() -> None:
    zoned = DiscoveryPublisher(
        NoLink(),  # type: ignore[arg-type]
        DiscoveryConfig(),
        Topics("ronda/front-door"),
        "front-door",
        zones=["driveway", "back-yard_2"],
    )
    configs = by_object(zoned.configs())
    plain = by_object(publisher().configs())
    assert set(configs) - set(plain) == {
        "zone_driveway_person",
        "zone_driveway_pet",
        "zone_back-yard_2_person",
        "zone_back-yard_2_pet",
    }
    sensor = configs["zone_driveway_pet"]
    assert sensor["state_topic"] == "ronda/front-door/zones/driveway/pet"
    assert sensor["unique_id"] == "ronda_front-door_zone_driveway_pet"
    assert (sensor["state_class"], sensor["unit_of_measurement"]) == ("measurement", "pets")
    assert "value_template" not in sensor  # the payload is the count itself


def test_zones_changed_while_running_add_and_remove_their_sensors(
    tmp_path: Path, broker: Mosquitto
) -> None:
    """The web page's editor hands the runtime new zones: Home Assistant must see the new
    zone's sensors and lose the deleted zone's, without a restart (what is retained is what a
    Home Assistant that starts later finds)."""
    square = {"points": [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.1, 0.9]]}

    def config(zones: dict[str, object]) -> RondaConfig:
        return parse_config(
            {
                "camera": {"name": "test"},
                "store": {"path": str(tmp_path / "state")},
                "mqtt": {"host": broker.host, "port": broker.port, "topic_prefix": PREFIX},
                "governor": {"enabled": False},
                "zones": zones,
            }
        )

    def zone_sensors(subscriber: Subscriber) -> set[str]:
        """Zone sensors whose config is retained (an empty payload deletes one)."""
        latest = {m.topic: m.payload for m in subscriber.on("/config")}
        return {t.split("/")[-2] for t, p in latest.items() if "/zone_" in t and p}

    runtime = Runtime(config({"driveway": square}), RunOptions())
    try:
        assert runtime.link is not None and runtime.link.connected.wait(10)
        runtime.apply_config(config({"porch": square}))
        assert runtime.link.wait_drained(10)
        late = retained_configs(broker)
        try:
            # Retained configs arrive right after the subscription, before a later live one.
            late.client.publish("homeassistant/marker", b"after the retained ones", qos=1)
            assert late.wait_for(lambda s: bool(s.on("/marker")))
            assert zone_sensors(late) == {"zone_porch_person", "zone_porch_pet"}
            assert {m.topic.split("/")[-2] for m in late.on("/config")} >= {"fps", "person"}
        finally:
            late.stop()
    finally:
        runtime.close()

"""Home Assistant MQTT discovery: the camera shows up as a device, with no YAML.

Per camera, one device (identifiers derived from the camera name, so they survive restarts and
re-installs) with:

* ``binary_sensor`` person, pet (occupancy) and motion (motion-only events while the detector is
  paused), reading the retained ``ON``/``OFF`` state topics the alert sink keeps;
* ``image`` per label (person, pet): the retained latest thumbnail of that label, raw JPEG.
  One per label rather than one "latest of any label": a dashboard wants "who was the last
  person at the door" even after the cat walked past, the alert sink already keeps one retained
  snapshot per label, and a shared entity would make each label overwrite the other;
* ``sensor`` entities reading the retained stats JSON: SoC temperature, battery, processed fps,
  governor level, detector ms and outbox depth (diagnostic), undeliverable alerts (dead letters),
  events today and the light (``day``, ``dark`` or ``infrared``);
* the owner's controls (docs/controls.md): ``switch`` Armed, Privacy and Recording, ``number``
  Snooze (minutes) with a ``button`` End snooze, ``select`` Motion sensitivity and a ``number``
  alert threshold per label, each reading its retained state topic and commanding through
  ``<prefix>/<control>/set``; and a ``sensor`` State (``watching``, ``snoozed``, ``disarmed``
  or ``privacy``) from the retained controls JSON;
* per zone and label (person, pet), a ``sensor`` with the number of such objects in the zone
  now, reading the retained ``<prefix>/zones/<zone>/<label>`` count.  Zones drawn or deleted
  in the web page's editor gain or lose their sensors at once (``set_zones``); a zone removed
  from the file while Ronda was stopped leaves its entities behind until ``remove`` is run once
  (Ronda no longer knows the name).

Everything is retained, published through ``MqttLink.put_state`` (so re-sent on every connect)
and again whenever Home Assistant announces ``online`` on ``<prefix>/status``: a restarted Home
Assistant re-reads configs first and the retained state after, so no state is lost to the order.
With ``remove`` the same config topics get empty retained payloads, which makes Home Assistant
delete the entities (and the device once it has none).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from camera import __version__
from camera.controls.state import MAX_SNOOZE_MINUTES, SENSITIVITIES, THRESHOLD_LABELS
from camera.mqtt.config import DiscoveryConfig
from camera.mqtt.link import MqttLink
from camera.mqtt.topics import Topics

log = logging.getLogger(__name__)

BINARY_SENSORS = (
    ("person", "Person", "occupancy"),
    ("pet", "Pet", "occupancy"),
    ("motion", "Motion", "motion"),
)
IMAGES = (("person", "Last person"), ("pet", "Last pet"))
ZONE_LABELS = ("person", "pet")
ZONE_ICONS = {"person": "mdi:account-multiple", "pet": "mdi:paw"}


@dataclass(frozen=True, slots=True)
class StatSensor:
    """One sensor entity whose value is a top-level key of the stats JSON."""

    key: str
    name: str
    unit: str | None = None
    device_class: str | None = None
    icon: str | None = None
    diagnostic: bool = True
    numeric: bool = True


STAT_SENSORS = (
    StatSensor("soc_temp_c", "SoC temperature", "°C", "temperature"),
    StatSensor("battery_pct", "Battery", "%", "battery"),
    StatSensor("fps", "Processed fps", "fps", icon="mdi:speedometer"),
    StatSensor("governor_level", "Governor level", icon="mdi:thermometer-alert", numeric=False),
    StatSensor("detector_ms", "Detector time", "ms", "duration"),
    StatSensor("detector_backend", "Detector", icon="mdi:chip", numeric=False),
    StatSensor("outbox_depth", "Queued alerts", "messages", icon="mdi:tray-full"),
    # Not diagnostic: a refused alert needs the owner (fix the ACL, then ``ronda outbox retry``),
    # so it shows on the device page where an automation can watch it.
    StatSensor(
        "dead_letters", "Undeliverable alerts", "messages", icon="mdi:email-alert", diagnostic=False
    ),
    StatSensor("events_today", "Events today", "events", icon="mdi:cctv", diagnostic=False),
    # day, dark or infrared: the night values apply while it is not day (docs/motion.md).
    StatSensor(
        "light_state", "Light", icon="mdi:theme-light-dark", diagnostic=False, numeric=False
    ),
)


SWITCHES = (
    ("armed", "Armed", "mdi:shield-home"),
    ("privacy", "Privacy", "mdi:eye-off"),
    ("recording", "Recording", "mdi:record-rec"),
)


class DiscoveryPublisher:
    """Builds the discovery configs of one camera and keeps them published."""

    def __init__(
        self,
        link: MqttLink,
        config: DiscoveryConfig,
        topics: Topics,
        camera: str,
        zones: Sequence[str] = (),
    ) -> None:
        self.link = link
        self.config = config
        self.topics = topics
        self.camera = camera
        self.zones = list(zones)
        self.node_id = f"ronda_{camera}"

    def register(self) -> None:
        """Publish now (and on every connect) and answer Home Assistant's ``online``."""
        self.publish()
        self.link.subscribe(self.status_topic, self._on_status)

    @property
    def status_topic(self) -> str:
        return f"{self.config.prefix}/status"

    def config_topic(self, component: str, object_id: str) -> str:
        return f"{self.config.prefix}/{component}/{self.node_id}/{object_id}/config"

    def publish(self) -> None:
        """Queue every config as retained state (an empty payload for each with ``remove``)."""
        for topic, payload in self.configs().items():
            data = b"" if self.config.remove else json.dumps(payload, sort_keys=True).encode()
            self.link.put_state(topic, data)
        if self.config.remove:
            log.info("Home Assistant discovery: removing the entities of camera %s", self.camera)

    def set_zones(self, zones: Sequence[str]) -> None:
        """The zones changed while running (the web page's editor): publish the sensors of new
        zones and an empty retained config for each removed one, which Home Assistant takes as
        "delete this entity", so the device page follows the editor without a restart."""
        if list(zones) == self.zones:
            return
        before = set(self.configs())
        self.zones = list(zones)
        for topic in sorted(before - set(self.configs())):
            self.link.put_state(topic, b"")
        self.publish()
        log.info("Home Assistant discovery: zones now %s", ", ".join(self.zones) or "none")

    def _on_status(self, payload: bytes) -> None:
        if payload.strip().lower() == b"online":
            log.info("Home Assistant came online: re-sending discovery and state")
            self.publish()
            self.link.resend_state()

    # -- payloads ----------------------------------------------------------------------------
    def device(self) -> dict[str, object]:
        return {
            "identifiers": [self.node_id],
            "name": f"Ronda {self.camera}",
            "manufacturer": "Ronda",
            "model": "Ronda person/pet camera",
            "sw_version": __version__,
        }

    def _common(self, object_id: str, name: str) -> dict[str, object]:
        return {
            "name": name,
            "unique_id": f"{self.node_id}_{object_id}",
            "object_id": f"{self.node_id}_{object_id}",
            "availability_topic": self.topics.availability,
            "payload_available": "online",
            "payload_not_available": "offline",
            "device": self.device(),
            "origin": {"name": "Ronda", "sw_version": __version__},
        }

    def configs(self) -> dict[str, dict[str, object]]:
        """Config topic -> payload, for every entity of this camera."""
        configs: dict[str, dict[str, object]] = {}
        for label, name, device_class in BINARY_SENSORS:
            configs[self.config_topic("binary_sensor", label)] = {
                **self._common(label, name),
                "state_topic": self.topics.label_state(label),
                "payload_on": "ON",
                "payload_off": "OFF",
                "device_class": device_class,
            }
        for label, name in IMAGES:
            object_id = f"{label}_snapshot"
            configs[self.config_topic("image", object_id)] = {
                **self._common(object_id, name),
                "image_topic": self.topics.label_snapshot(label),
                "content_type": "image/jpeg",
            }
        for sensor in STAT_SENSORS:
            configs[self.config_topic("sensor", sensor.key)] = self._stat_sensor(sensor)
        configs.update(self._controls())
        for zone in self.zones:
            for label in ZONE_LABELS:
                object_id = f"zone_{zone}_{label}"
                configs[self.config_topic("sensor", object_id)] = {
                    **self._common(object_id, f"{zone} {label}s"),
                    "state_topic": self.topics.zone_occupancy(zone, label),
                    "state_class": "measurement",
                    "unit_of_measurement": f"{label}s",
                    "icon": ZONE_ICONS[label],
                }
        return configs

    def _control(
        self, component: str, control: str, name: str, **extra: object
    ) -> tuple[str, dict[str, object]]:
        object_id = control.replace("/", "_")
        return self.config_topic(component, object_id), {
            **self._common(object_id, name),
            "command_topic": self.topics.control_command(control),
            "state_topic": self.topics.control_state(control),
            **extra,
        }

    def _controls(self) -> dict[str, dict[str, object]]:
        """The owner's controls, on the device page's Controls and Configuration cards."""
        on_off = {"payload_on": "ON", "payload_off": "OFF", "state_on": "ON", "state_off": "OFF"}
        entities = [
            self._control("switch", control, name, icon=icon, **on_off)
            for control, name, icon in SWITCHES
        ]
        entities.append(
            self._control(
                "number", "snooze", "Snooze", min=0, max=MAX_SNOOZE_MINUTES, step=1, mode="box",
                unit_of_measurement="min", icon="mdi:alarm-snooze",
            )
        )  # fmt: skip
        state = self._common("camera_state", "State")
        state.update(
            state_topic=self.topics.controls,
            value_template="{{ value_json.state }}",
            icon="mdi:cctv",
        )
        entities.append((self.config_topic("sensor", "camera_state"), state))
        end = self._common("snooze_end", "End snooze")
        end.update(
            command_topic=self.topics.control_command("snooze"),
            payload_press="0",
            icon="mdi:alarm-off",
        )
        entities.append((self.config_topic("button", "snooze_end"), end))
        entities.append(
            self._control(
                "select", "sensitivity", "Motion sensitivity", options=list(SENSITIVITIES),
                entity_category="config", icon="mdi:motion-sensor",
            )
        )  # fmt: skip
        entities += [
            self._control(
                "number", f"threshold/{label}", f"{label.capitalize()} alert threshold",
                min=0.05, max=1.0, step=0.05, mode="slider", entity_category="config",
                icon="mdi:tune-vertical",
            )
            for label in THRESHOLD_LABELS
        ]  # fmt: skip
        return dict(entities)

    def _stat_sensor(self, sensor: StatSensor) -> dict[str, object]:
        payload: dict[str, object] = {
            **self._common(sensor.key, sensor.name),
            "state_topic": self.topics.stats,
            # A null in the JSON renders as "None", which Home Assistant shows as unknown.
            "value_template": f"{{{{ value_json.{sensor.key} }}}}",
        }
        if sensor.numeric:
            payload["state_class"] = "measurement"
        if sensor.unit:
            payload["unit_of_measurement"] = sensor.unit
        if sensor.device_class:
            payload["device_class"] = sensor.device_class
        if sensor.icon:
            payload["icon"] = sensor.icon
        if sensor.diagnostic:
            payload["entity_category"] = "diagnostic"
        return payload


def attach_discovery(
    link: MqttLink,
    config: DiscoveryConfig,
    topics: Topics,
    camera: str,
    zones: Sequence[str] = (),
) -> DiscoveryPublisher | None:
    """Register discovery on ``link`` when it is enabled (or asked to remove its entities)."""
    if not (config.enabled or config.remove):
        return None
    publisher = DiscoveryPublisher(link, config, topics, camera, zones)
    publisher.register()
    return publisher

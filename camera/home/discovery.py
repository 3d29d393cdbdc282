"""One Home Assistant device for the whole home: a switch that arms or disarms every camera and
a number that snoozes them all (minutes, 0 ends a snooze).

Both are plain MQTT entities on the home's own topics; the home page turns each command into
one command per camera (``<camera prefix>/armed/set``, ``/snooze/set``), the topics the
cameras' own controls listen to.  The switch's state is ON when every camera reports armed.
"""

from __future__ import annotations

import json

import paho.mqtt.client as paho

from camera import __version__
from camera.home.settings import HomeFile
from camera.home.topics import MAX_SNOOZE_MIN


def configs(config: HomeFile) -> dict[str, dict[str, object]]:
    """Config topic -> payload."""
    prefix = config.home.topic_prefix
    node = config.home.client_id.replace("-", "_")
    device = {
        "identifiers": [node],
        "name": "Ronda home",
        "manufacturer": "Ronda",
        "model": "Ronda home page (every camera)",
        "sw_version": __version__,
    }
    common = {
        "availability_topic": f"{prefix}/availability",
        "device": device,
        "origin": {"name": "Ronda", "sw_version": __version__},
    }
    discovery = config.mqtt.discovery.prefix
    return {
        f"{discovery}/switch/{node}/armed/config": {
            **common,
            "name": "Armed (all cameras)",
            "unique_id": f"{node}_armed",
            "object_id": f"{node}_armed",
            "command_topic": f"{prefix}/armed/set",
            "state_topic": f"{prefix}/armed",
            "payload_on": "ON",
            "payload_off": "OFF",
            "icon": "mdi:shield-home",
        },
        f"{discovery}/number/{node}/snooze/config": {
            **common,
            "name": "Snooze all cameras",
            "unique_id": f"{node}_snooze",
            "object_id": f"{node}_snooze",
            "command_topic": f"{prefix}/snooze/set",
            "min": 0,
            "max": MAX_SNOOZE_MIN,
            "step": 5,
            "mode": "box",
            "unit_of_measurement": "min",
            "icon": "mdi:bell-sleep",
        },
    }


def announce(client: paho.Client, config: HomeFile) -> None:
    """Publish (retained) on every connect, so a new Home Assistant finds the device."""
    for topic, payload in configs(config).items():
        client.publish(topic, json.dumps(payload, sort_keys=True).encode(), qos=1, retain=True)

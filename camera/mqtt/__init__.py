"""MQTT: the broker link, the alert sink, Home Assistant discovery and topic names.

Names load on first use (PEP 562): ``camera.mqtt.config`` is part of every configuration,
including ``ronda home``'s, which must not pay for what the alert sink imports (OpenCV).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from camera.mqtt.alerts import MqttAlertSink
    from camera.mqtt.config import DiscoveryConfig, MqttConfig, TlsConfig
    from camera.mqtt.discovery import DiscoveryPublisher, attach_discovery
    from camera.mqtt.link import MqttLink
    from camera.mqtt.topics import Topics

_HOMES = {
    "MqttAlertSink": "alerts",
    "DiscoveryConfig": "config",
    "MqttConfig": "config",
    "TlsConfig": "config",
    "DiscoveryPublisher": "discovery",
    "attach_discovery": "discovery",
    "MqttLink": "link",
    "Topics": "topics",
}

__all__ = [
    "DiscoveryConfig",
    "DiscoveryPublisher",
    "MqttAlertSink",
    "MqttConfig",
    "MqttLink",
    "TlsConfig",
    "Topics",
    "attach_discovery",
]


def __getattr__(name: str) -> Any:
    module = _HOMES.get(name)
    if module is None:
        raise AttributeError(f"module 'camera.mqtt' has no attribute {name!r}")
    return getattr(importlib.import_module(f"camera.mqtt.{module}"), name)

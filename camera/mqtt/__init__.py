"""MQTT: the broker link, the alert sink, Home Assistant discovery and topic names.

Names load on first use (``camera.lazy_exports``), so reading a configuration does not
load the alert sink and OpenCV with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from camera.lazy_exports import lazy_exports

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


__getattr__ = lazy_exports(__name__, _HOMES)

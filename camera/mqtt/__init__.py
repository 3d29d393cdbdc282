"""MQTT: the broker link, the alert sink, Home Assistant discovery and topic names."""

from camera.mqtt.alerts import MqttAlertSink
from camera.mqtt.config import DiscoveryConfig, MqttConfig, TlsConfig
from camera.mqtt.discovery import DiscoveryPublisher, attach_discovery
from camera.mqtt.link import MqttLink
from camera.mqtt.topics import Topics

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

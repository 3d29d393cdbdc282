"""MQTT: the broker link, the alert sink and topic names."""

from camera.mqtt.alerts import MqttAlertSink
from camera.mqtt.config import MqttConfig, TlsConfig
from camera.mqtt.link import MqttLink
from camera.mqtt.topics import Topics

__all__ = ["MqttAlertSink", "MqttConfig", "MqttLink", "TlsConfig", "Topics"]

"""The paho client as the configuration asks for it: credentials, TLS, Last Will, window."""

from __future__ import annotations

import contextlib
import socket

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from camera.mqtt.config import MqttConfig
from camera.mqtt.credentials import tls_context


def make_client(config: MqttConfig, client_id: str, will_topic: str | None) -> paho.Client:
    """A client with no callbacks yet; ``will_topic`` None sets no Last Will (helpers such as
    ``ronda flush`` must not announce the camera offline)."""
    if config.protocol == "5":
        client = paho.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=paho.MQTTv5,
        )
    else:
        client = paho.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=True,
            protocol=paho.MQTTv311,
        )
    password, _ = config.resolve_password()
    if config.username or password:
        client.username_pw_set(config.username, password)
    tls = config.tls
    if tls.enabled:  # each file checked on its own: a mistake names its file
        client.tls_set_context(tls_context(tls))
        client.tls_insecure_set(tls.insecure)
    if will_topic is not None:
        client.will_set(will_topic, b"offline", qos=1, retain=True)
    client.max_inflight_messages_set(config.max_inflight)
    client.max_queued_messages_set(0)
    return client


def connect(client: paho.Client, config: MqttConfig) -> None:
    """Open the connection (raises ``OSError``); a clean session either way, as the outbox,
    not the broker, keeps what is undelivered."""
    if config.protocol == "5":
        client.connect(config.host, config.port, config.keepalive_s, clean_start=True)
    else:
        client.connect(config.host, config.port, config.keepalive_s)
    no_delay(client)


def no_delay(client: paho.Client) -> None:
    """Send each packet at once (``TCP_NODELAY``; paho leaves Nagle's algorithm on).  With it
    on, a small packet written while the previous one is unacknowledged waits for the broker's
    delayed ACK, up to 40 ms on Linux: the retained state after a command's PUBACK reached Home
    Assistant about 45 ms late (``bench/controls.py``).  MQTT packets are whole messages, so
    there is nothing for Nagle to merge."""
    sock = client.socket()
    if not isinstance(sock, socket.socket):  # not connected, or a websocket wrapper
        return
    with contextlib.suppress(OSError):  # not TCP (a unix socket): nothing to do
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

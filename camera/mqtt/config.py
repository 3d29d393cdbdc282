"""Broker connection, topics, TLS and credentials."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from camera.section import Section
from camera.store import OutboxConfig

DEFAULT_PASSWORD_ENV = "RONDA_MQTT_PASSWORD"


class DiscoveryConfig(Section):
    """Home Assistant MQTT discovery: the camera appears as a device with no YAML."""

    enabled: bool = True
    """Publish Home Assistant discovery so the camera appears by itself."""
    prefix: str = Field("homeassistant", pattern=r"^[^#+]+$")
    """Home Assistant's discovery prefix (its MQTT integration option of the same name)."""
    remove: bool = False
    """Publish empty configs instead, so Home Assistant deletes this camera's entities; run once
    (``ronda flush`` is enough), then set ``enabled: false``."""


class TlsConfig(Section):
    """TLS to the broker.  With ``enabled`` and no ``ca_file`` the system trust store is used."""

    enabled: bool = False
    """Connect to the broker over TLS."""
    ca_file: Path | None = None
    """CA certificate that signed the broker's; null = the system's trust store."""
    cert_file: Path | None = None
    """Client certificate, for brokers that require one (``require_certificate true``)."""
    key_file: Path | None = None
    """Private key of ``cert_file``."""
    insecure: bool = False
    """Skip the hostname check (a certificate for another name); the chain is still verified."""

    @model_validator(mode="after")
    def _files_exist(self) -> TlsConfig:
        for name in ("ca_file", "cert_file", "key_file"):
            path = getattr(self, name)
            if path is not None and not Path(path).expanduser().is_file():
                raise ValueError(f"{name} {path} does not exist")
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together")
        return self


class MqttConfig(Section):
    """How alerts reach the home broker."""

    enabled: bool = True
    """False: events stay local (``ronda events``), nothing is published."""
    host: str = "localhost"
    """Broker host name or address."""
    port: int = Field(1883, ge=1, le=65535)
    """Broker port (8883 for TLS, usually)."""
    username: str | None = None
    """Broker user; null for an anonymous broker."""
    password: SecretStr | None = None
    """Better kept out of this file: see ``password_file`` and ``password_env``."""
    password_file: Path | None = None
    """A file holding only the password (e.g. a systemd credential); wins over the others."""
    password_env: str = DEFAULT_PASSWORD_ENV
    """Environment variable holding the password; used when set and non-empty."""
    client_id: str | None = None
    """Default ``ronda-<camera name>``."""
    topic_prefix: str | None = None
    """Default ``ronda/<camera name>``."""
    keepalive_s: int = Field(30, ge=5, le=3600)
    """Ping interval; a silent network cut is noticed within about twice this."""
    reconnect_min_s: float = Field(1.0, gt=0, le=60)
    """Broker down or refusing us: retry after this, doubling up to
    ``reconnect_max_s``, forever; alerts wait on disk meanwhile."""
    reconnect_max_s: float = Field(60.0, gt=0, le=3600)
    """Longest wait between two connection attempts."""
    max_inflight: int = Field(20, ge=1, le=1000)
    """Messages published but not yet acknowledged at once (also the most duplicates a crash
    can cause: they are published again after a restart)."""
    ack_timeout_s: float = Field(15.0, ge=1, le=600)
    """No PUBACK for this long while alerts are in flight means the connection is dead without a
    TCP reset (a cut cable, a Wi-Fi drop): reconnect and resend rather than wait for keepalive."""
    protocol: Literal["5", "3.1.1"] = "5"
    """MQTT version.  ``5`` (mosquitto 1.6 and later, Home Assistant's Mosquitto add-on, EMQX,
    HiveMQ) lets the broker tell us when it refuses a message and how large a packet it takes;
    ``3.1.1`` for older brokers, which acknowledge a refused message like a delivered one (see
    the delivery page)."""
    max_packet_bytes: int | None = Field(None, ge=1024, le=268_435_456)
    """Largest MQTT packet to send; null = the limit an MQTT 5 broker announces, else none.
    Set it for a 3.1.1 broker with ``max_packet_size``: larger thumbnails are then shrunk or
    left out instead of making the broker drop the connection."""
    refused_attempts: int = Field(5, ge=1, le=100)
    """A message the broker refuses (an MQTT 5 PUBACK with a failure reason code, e.g. an ACL
    that denies the topic) is tried this often, with growing pauses, then kept as a dead letter
    (``ronda outbox list``); the alerts behind it are delivered meanwhile."""
    drain_timeout_s: float = Field(10.0, ge=0, le=600)
    """On stop or at the end of a replay, wait this long for queued alerts to be acknowledged."""
    stats_interval_s: float = Field(60.0, ge=1, le=86400)
    """Period of the retained stats message (fps, detector ms, governor, outbox)."""
    tls: TlsConfig = TlsConfig()
    outbox: OutboxConfig = OutboxConfig()
    discovery: DiscoveryConfig = DiscoveryConfig()

    @field_validator("protocol", mode="before")
    @classmethod
    def _protocol_as_text(cls, value: object) -> object:
        """``protocol: 5`` in YAML is a number; ``5.0`` too."""
        return "5" if value in (5, 5.0) else value

    @model_validator(mode="after")
    def _password_file_exists(self) -> MqttConfig:
        if self.password_file is not None and not self.password_file.expanduser().is_file():
            raise ValueError(f"password_file {self.password_file} does not exist")
        return self

    def resolve_password(self) -> tuple[str | None, str]:
        """The password and where it came from (for messages: never the password itself)."""
        if self.password_file is not None:
            text = self.password_file.expanduser().read_text(encoding="utf-8")
            return text.strip("\r\n"), f"file {self.password_file}"
        if value := os.environ.get(self.password_env):
            return value, f"environment variable {self.password_env}"
        if self.password is not None:
            return self.password.get_secret_value(), "mqtt.password in the config file"
        return None, "no password configured"

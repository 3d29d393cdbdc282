"""Broker connection, topics, TLS and credentials."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from camera.files import UnusableFile, file_problem, read_small
from camera.mqtt.topics import (
    MAX_CLIENT_ID_BYTES,
    MAX_HOST_CHARS,
    MAX_STRING_BYTES,
    check_length,
    check_topic_prefix,
)
from camera.section import Section
from camera.store import OutboxConfig

DEFAULT_PASSWORD_ENV = "RONDA_MQTT_PASSWORD"
MAX_PASSWORD_FILE_BYTES = MAX_STRING_BYTES + 2  # the password and a line ending


class CredentialsError(Exception):
    """The password or a TLS file cannot be used; ``str()`` is one line naming the option and
    the file, never the secret (exit code 2: the owner fixes the configuration)."""


def _regular_file(path: Path | None) -> Path | None:
    """Config-time check of a file option: it must be an existing regular file.  The content is
    read later, by the process that connects (``ronda status`` may not be allowed to read it)."""
    if path is not None and (problem := file_problem(Path(path).expanduser())) is not None:
        raise ValueError(f"{path}: {problem}")
    return path


class DiscoveryConfig(Section):
    """Home Assistant MQTT discovery: the camera appears as a device with no YAML."""

    enabled: bool = True
    """Publish Home Assistant discovery so the camera appears by itself."""
    prefix: str = "homeassistant"
    """Home Assistant's discovery prefix (its MQTT integration option of the same name)."""
    remove: bool = False
    """Publish empty configs instead, so Home Assistant deletes this camera's entities; run once
    (``ronda flush`` is enough), then set ``enabled: false``."""

    @field_validator("prefix")
    @classmethod
    def _publishable(cls, prefix: str) -> str:
        return check_topic_prefix(prefix)


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

    @field_validator("ca_file", "cert_file", "key_file")
    @classmethod
    def _file_exists(cls, path: Path | None) -> Path | None:
        return _regular_file(path)

    @model_validator(mode="after")
    def _pairs(self) -> TlsConfig:
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

    @field_validator("host")
    @classmethod
    def _host_name(cls, host: str) -> str:
        if not host:
            raise ValueError("is empty; name the broker (a host name or an IP address)")
        if len(host) > MAX_HOST_CHARS:
            raise ValueError(f"is {len(host):,} characters long; a host name has at most 253")
        if any(c.isspace() or c == "/" for c in host):
            raise ValueError("must be a bare host name or address (no spaces, no '/' or URL)")
        return host

    @field_validator("client_id")
    @classmethod
    def _client_id(cls, client_id: str | None) -> str | None:
        if client_id is not None:
            if not client_id:
                raise ValueError("is empty; leave it out for the default ronda-<camera name>")
            check_length(client_id, MAX_CLIENT_ID_BYTES)
        return client_id

    @field_validator("topic_prefix")
    @classmethod
    def _topic_prefix(cls, prefix: str | None) -> str | None:
        return None if prefix is None else check_topic_prefix(prefix)

    @field_validator("username")
    @classmethod
    def _username(cls, username: str | None) -> str | None:
        return None if username is None else check_length(username, MAX_STRING_BYTES)

    @field_validator("password")
    @classmethod
    def _password(cls, password: SecretStr | None) -> SecretStr | None:
        if password is not None:
            check_length(password.get_secret_value(), MAX_STRING_BYTES)
        return password

    @field_validator("password_file")
    @classmethod
    def _password_file_exists(cls, path: Path | None) -> Path | None:
        return _regular_file(path)

    def resolve_password(self) -> tuple[str | None, str]:
        """The password and where it came from (for messages: never the password itself).

        Raises :class:`CredentialsError` when the password file cannot be used."""
        if self.password_file is not None:
            where = f"mqtt.password_file {self.password_file}"
            try:
                data = read_small(self.password_file.expanduser(), MAX_PASSWORD_FILE_BYTES)
                text = data.decode("utf-8").strip("\r\n")
            except UnusableFile as problem:
                raise CredentialsError(f"{where}: {problem}") from None
            except UnicodeDecodeError:
                raise CredentialsError(
                    f"{where} is not UTF-8 text (a binary file?); it must hold only the password"
                ) from None
            if not text:
                raise CredentialsError(f"{where} is empty; it must hold the password")
            return text, f"file {self.password_file}"
        if value := os.environ.get(self.password_env):
            try:
                check_length(value, MAX_STRING_BYTES)
            except ValueError as problem:
                raise CredentialsError(
                    f"the password in environment variable {self.password_env} {problem}"
                ) from None
            return value, f"environment variable {self.password_env}"
        if self.password is not None:
            return self.password.get_secret_value(), "mqtt.password in the config file"
        return None, "no password configured"

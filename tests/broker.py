"""A real mosquitto broker and a real subscriber for the tests.

The broker runs as a child process on a free loopback port with a config written by the test,
so tests can stop and restart it (outage tests), add a password file or a TLS listener.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.02) -> bool:
    """Poll a condition until it holds or the timeout passes (no blind sleeps in tests)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class Mosquitto:
    """One broker process; ``stop()``/``start()`` keep the same port and configuration."""

    def __init__(self, workdir: Path, extra_config: str = "", port: int | None = None) -> None:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(binary).exists():
            raise RuntimeError("mosquitto is not installed (apt-get install mosquitto)")
        self.binary = binary
        self.workdir = workdir
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.config_path = workdir / "mosquitto.conf"
        listener = extra_config or f"listener {self.port} 127.0.0.1\nallow_anonymous true\n"
        # As root, mosquitto drops to user "mosquitto", which cannot read pytest's private tmp.
        run_as = "user root\n" if os.geteuid() == 0 else ""
        self.config_path.write_text(f"persistence false\n{run_as}{listener}")
        self.log_path = workdir / "mosquitto.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [self.binary, "-c", str(self.config_path)], stdout=log, stderr=log
        )
        if not wait_until(lambda: _port_open(self.port), timeout=10):
            raise RuntimeError(f"mosquitto did not start: {self.log_path.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


def password_broker(workdir: Path, username: str, password: str) -> Mosquitto:
    """A started mosquitto that only lets ``username``/``password`` in."""
    password_file = workdir / "passwd"
    subprocess.run(
        ["mosquitto_passwd", "-b", "-c", str(password_file), username, password], check=True
    )
    port = free_port()
    broker = Mosquitto(
        workdir,
        extra_config=(
            f"listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {password_file}\n"
        ),
        port=port,
    )
    broker.start()
    return broker


@dataclass
class Received:
    topic: str
    payload: bytes
    retain: bool

    def json(self) -> dict:
        return json.loads(self.payload)


@dataclass
class Subscriber:
    """A real MQTT client collecting everything under ``topic``."""

    host: str
    port: int
    topic: str = "#"
    messages: list[Received] = field(default_factory=list)
    username: str | None = None
    password: str | None = None
    tls_ca: Path | None = None

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2)
        if self.username:
            self.client.username_pw_set(self.username, self.password)
        if self.tls_ca:
            self.client.tls_set(ca_certs=str(self.tls_ca))
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *a: self._subscribed.set()
        self.client.reconnect_delay_set(0.2, 1)

    def start(self) -> Subscriber:
        self.client.connect_async(self.host, self.port)
        self.client.loop_start()
        if not self._subscribed.wait(10):
            raise RuntimeError("test subscriber could not subscribe")
        return self

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        client.subscribe(self.topic, qos=1)

    def _on_message(self, client, userdata, message) -> None:
        with self._lock:
            self.messages.append(Received(message.topic, bytes(message.payload), message.retain))

    def on(self, topic_suffix: str) -> list[Received]:
        with self._lock:
            return [m for m in self.messages if m.topic.endswith(topic_suffix)]

    def events(self) -> list[dict]:
        return [m.json() for m in self.on("/events")]

    def thumbnails(self) -> list[Received]:
        return self.on("/thumbnail")

    def wait_for(self, predicate: Callable[[Subscriber], bool], timeout: float = 20) -> bool:
        return wait_until(lambda: predicate(self), timeout)

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()

"""The mosquitto ACL that docs/controls.md shows, on a real mosquitto: Home Assistant's user may
command the camera's controls, another user may read but its commands never reach the camera
(with MQTT 5 the broker refuses them, and the sender sees why).  A few seconds."""

from __future__ import annotations

import re
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from camera.app import first_controls
from camera.config import parse_config
from camera.controls import Controls
from camera.mqtt import Topics
from camera.mqtt.commands import ControlTopics
from tests.broker import Mosquitto, free_port, wait_until
from tests.link_helpers import make_link

DOCS = Path(__file__).resolve().parent.parent / "docs" / "controls.md"
USERS = {"ronda": "camera-pass", "homeassistant": "ha-pass", "guest": "guest-pass"}
TOPICS = Topics("ronda/porch")


def documented_acl() -> str:
    blocks = re.findall(r"^```[a-z]*\n(.*?)^```", DOCS.read_text(), re.S | re.M)
    acl = [block for block in blocks if "user homeassistant" in block]
    assert len(acl) == 1, "docs/controls.md shows one ACL file"
    return acl[0]


@pytest.fixture
def acl_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    passwords = tmp_path / "passwd"
    passwords.touch()
    for user, password in USERS.items():
        subprocess.run(["mosquitto_passwd", "-b", str(passwords), user, password], check=True)
    acl = tmp_path / "acl"
    acl.write_text(documented_acl())
    port = free_port()
    broker = Mosquitto(
        tmp_path,
        extra_config=f"listener {port} 127.0.0.1\nallow_anonymous false\n"
        f"password_file {passwords}\nacl_file {acl}\n",
        port=port,
    )
    broker.start()
    yield broker
    broker.stop()


class Client:
    """An MQTT 5 client that remembers the broker's answer to each QoS 1 publish."""

    def __init__(self, broker: Mosquitto, user: str) -> None:
        self.answers: dict[int, int] = {}
        self.connected = threading.Event()
        self.client = paho.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            protocol=paho.MQTTv5,
            client_id=f"test-{user}",
        )
        self.client.username_pw_set(user, USERS[user])
        self.client.on_connect = lambda *args: self.connected.set()
        self.client.on_publish = self._published
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        assert self.connected.wait(10)

    def _published(self, client, userdata, mid, reason_code, properties) -> None:
        self.answers[mid] = reason_code.value

    def command(self, control: str, payload: str) -> int:
        """Publish a command; the broker's reason code (0: accepted, 0x87: not authorised)."""
        info = self.client.publish(TOPICS.control_command(control), payload, qos=1)
        assert wait_until(lambda: info.mid in self.answers, 10)
        return self.answers[info.mid]

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def test_home_assistant_commands_the_camera_and_nobody_else(
    tmp_path: Path, acl_broker: Mosquitto
) -> None:
    controls = Controls(first_controls(parse_config({})), tmp_path)
    link, _ = make_link(tmp_path, acl_broker.port, username="ronda", password=USERS["ronda"])
    ControlTopics(link, TOPICS, controls)
    controls.start()
    link.start()
    home_assistant = Client(acl_broker, "homeassistant")
    guest = Client(acl_broker, "guest")
    try:
        assert wait_until(lambda: link.connected.is_set() and not link.subscriptions.busy(), 10)
        assert guest.command("armed", "OFF") == 0x87  # refused by the broker
        assert home_assistant.command("armed", "OFF") == 0
        assert wait_until(lambda: controls.current.armed is False, 10)
        assert guest.command("armed", "ON") == 0x87
        assert guest.command("threshold/person", "0.9") == 0x87
        assert home_assistant.command("sensitivity", "high") == 0
        assert wait_until(lambda: controls.current.sensitivity == "high", 10)
        assert controls.current.armed is False  # the guest's commands never arrived
        assert controls.current.thresholds["person"] == 0.5
        assert (controls.applied, controls.refused) == (2, 0)
    finally:
        guest.stop()
        home_assistant.stop()
        link.stop()
        controls.stop()


def test_the_link_sends_each_packet_at_once(tmp_path: Path, broker: Mosquitto) -> None:
    """TCP_NODELAY on the link's socket: with Nagle's algorithm on, the retained state that
    follows a command's PUBACK waited for the broker's delayed ACK (45 ms instead of 4 ms at the
    median in bench/controls.py)."""
    link, _ = make_link(tmp_path, broker.port)
    link.start()
    try:
        assert wait_until(link.connected.is_set, 10)
        sock = link._client.socket()
        assert isinstance(sock, socket.socket)
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        link.stop()

"""A real mosquitto broker and a real subscriber for the tests.

The broker runs as a child process on a free loopback port with a config written by the test,
so tests can stop and restart it (outage tests), add a password file or a TLS listener.  A
``Blackhole`` proxy in front of it cuts the network without a TCP reset, and ``Certificates``
makes a CA, a server and a client certificate (and an untrusted CA) with ``openssl``.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
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

    def __init__(
        self,
        workdir: Path,
        extra_config: str = "",
        port: int | None = None,
        *,
        persistence: bool = False,
        settings: str = "",
    ) -> None:
        """``persistence``: sessions and queued QoS 1 messages survive ``stop()``/``start()``
        (a subscriber with ``clean_session=False`` then misses nothing across an outage).
        ``settings``: more mosquitto.conf lines (limits, an ACL file), after the listener."""
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
        store = (
            f"persistence true\npersistence_location {workdir}/\nmax_queued_messages 0\n"
            if persistence
            else "persistence false\n"
        )
        self.config_path.write_text(f"{store}{run_as}{listener}{settings}")
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
    at: float = field(default_factory=time.monotonic)
    """``time.monotonic()`` when the subscriber got it (latency measurements)."""
    dup: bool = False
    """The broker re-sent it to this subscriber (its DUP flag): a redelivery by the broker after
    its own restart, as opposed to a second publish by the sender, which arrives as new."""

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
    client_id: str = ""
    clean_session: bool = True
    """False (with a ``client_id``) keeps the subscription and queued messages while the
    subscriber or the broker is away, like a phone app with a persistent session."""

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = paho.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            clean_session=self.clean_session,
        )
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
            self.messages.append(
                Received(message.topic, bytes(message.payload), message.retain, dup=message.dup)
            )

    def on(self, topic_suffix: str) -> list[Received]:
        with self._lock:
            return [m for m in self.messages if m.topic.endswith(topic_suffix)]

    def events(self) -> list[dict]:
        return [m.json() for m in self.on("/events")]

    def event_keys(self) -> list[tuple[str, int]]:
        """(event id, sequence) of every event message received, duplicates included."""
        return [(e["id"], e["sequence"]) for e in self.events()]

    def unique_event_keys(self) -> list[tuple[str, int]]:
        """(event id, sequence) in order of first arrival: what a deduplicating consumer sees."""
        return list(dict.fromkeys(self.event_keys()))

    def thumbnails(self) -> list[Received]:
        return self.on("/thumbnail")

    def wait_for(self, predicate: Callable[[Subscriber], bool], timeout: float = 20) -> bool:
        return wait_until(lambda: predicate(self), timeout)

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


class Blackhole:
    """A TCP proxy to a broker whose ``cut()`` silently drops every byte both ways, like a
    pulled cable or a Wi-Fi drop: no FIN, no RST, the sockets stay open.  New connections are
    accepted and ignored meanwhile.  ``heal()`` forwards again for connections made after it
    (the ones that were cut stay dead, as a NAT entry that timed out would)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._listener.setblocking(False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ, None)
        self._pairs: dict[socket.socket, tuple[socket.socket | None, int]] = {}
        self._generation = 0
        self._cut = False
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="blackhole", daemon=True)

    def start(self) -> Blackhole:
        self._thread.start()
        return self

    def cut(self) -> None:
        with self._lock:
            self._cut = True
            self._generation += 1

    def heal(self) -> None:
        with self._lock:
            self._cut = False

    def _alive(self, generation: int) -> bool:
        return not self._cut and generation == self._generation

    def _run(self) -> None:
        while not self._stop.is_set():
            for key, _ in self._selector.select(timeout=0.05):
                if key.fileobj is self._listener:
                    self._accept()
                else:
                    self._forward(key.fileobj)  # type: ignore[arg-type]

    def _accept(self) -> None:
        client, _ = self._listener.accept()
        with self._lock:
            generation = self._generation
            forward = not self._cut
        upstream = socket.create_connection(("127.0.0.1", self.target_port)) if forward else None
        self._pairs[client] = (upstream, generation)
        self._selector.register(client, selectors.EVENT_READ, None)
        if upstream is not None:
            self._pairs[upstream] = (client, generation)
            self._selector.register(upstream, selectors.EVENT_READ, None)

    def _forward(self, sock: socket.socket) -> None:
        if sock not in self._pairs:  # closed with its peer earlier in this select() round
            return
        peer, generation = self._pairs[sock]
        try:
            data = sock.recv(65536)
        except OSError:
            data = b""
        if not data:
            self._close(sock)
            return
        with self._lock:
            alive = self._alive(generation)
        if alive and peer is not None:
            try:
                peer.sendall(data)
            except OSError:
                self._close(sock)

    def _close(self, sock: socket.socket) -> None:
        peer, _ = self._pairs.pop(sock, (None, 0))
        for item in (sock, peer):
            if item is None:
                continue
            self._pairs.pop(item, None)
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(item)
            item.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for sock in list(self._pairs):
            self._close(sock)
        self._selector.close()
        self._listener.close()


@dataclass
class Certificates:
    """Made with ``openssl`` for one test: a CA, a server certificate for 127.0.0.1 and
    localhost, a client certificate, and an untrusted CA with its own server certificate."""

    directory: Path

    def __post_init__(self) -> None:
        if shutil.which("openssl") is None:
            raise RuntimeError("openssl is not installed (apt-get install openssl)")
        self.directory.mkdir(parents=True, exist_ok=True)
        self._ca("ca")
        self._ca("rogue-ca")
        self._signed("server", "ca", server=True)
        self._signed("rogue-server", "rogue-ca", server=True)
        self._signed("client", "ca", server=False)

    def path(self, name: str) -> Path:
        return self.directory / name

    def _openssl(self, *args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=self.directory)

    def _ca(self, name: str) -> None:
        self._openssl(
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", f"{name}.key", "-out", f"{name}.crt", "-subj", f"/CN=Ronda test {name}",
        )  # fmt: skip

    def _signed(self, name: str, ca: str, *, server: bool) -> None:
        self._openssl(
            "req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key",
            "-out", f"{name}.csr", "-subj", f"/CN={'localhost' if server else 'ronda-camera'}",
        )  # fmt: skip
        extensions = self.directory / f"{name}.ext"
        extensions.write_text(
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"
            if server
            else "extendedKeyUsage=clientAuth\n"
        )
        self._openssl(
            "x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key",
            "-CAcreateserial", "-days", "2", "-out", f"{name}.crt", "-extfile", extensions.name,
        )  # fmt: skip


def tls_broker(
    workdir: Path,
    certificates: Certificates,
    *,
    server: str = "server",
    require_certificate: bool = False,
    users: dict[str, str] | None = None,
) -> Mosquitto:
    """A started mosquitto with only a TLS listener presenting ``server``'s certificate,
    optionally requiring a client certificate and a password (``users``: name -> password)."""
    port = free_port()
    certs = certificates.path
    lines = [
        f"listener {port} 127.0.0.1",
        f"cafile {certs('ca.crt')}",
        f"certfile {certs(server + '.crt')}",
        f"keyfile {certs(server + '.key')}",
        f"require_certificate {'true' if require_certificate else 'false'}",
    ]
    if users:
        password_file = workdir / "passwd"
        for index, (name, secret) in enumerate(users.items()):
            create = ["-c"] if index == 0 else []
            subprocess.run(
                ["mosquitto_passwd", "-b", *create, str(password_file), name, secret], check=True
            )
        lines += ["allow_anonymous false", f"password_file {password_file}"]
    else:
        lines.append("allow_anonymous true")
    broker = Mosquitto(workdir, extra_config="\n".join(lines) + "\n", port=port)
    broker.start()
    return broker

"""The PiSugar reader against real local servers (TCP and Unix socket) that push noise."""

from __future__ import annotations

import logging
import socketserver
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from camera.governor import Governor, GovernorConfig
from camera.governor.sensors import PiSugarBattery


class _Handler(socketserver.StreamRequestHandler):
    """Speaks pisugar-server's line protocol, with pushed events in between answers."""

    server: _Fake

    def handle(self) -> None:
        fake = self.server.fake
        # A button event pushed as soon as the client connects, before any request.
        self.wfile.write(b"single\n")
        for raw in self.rfile:
            fake.requests.append(raw.decode().strip())
            if fake.silent:
                continue
            name = raw.decode().strip().removeprefix("get ")
            # Noise that shares a prefix with the real answers, then the answer split mid-line.
            self.wfile.write(b"long\nbattery_v: 4.02\nbattery_i: 0.3\n")
            answer = f"{name}: {fake.values.get(name, 'Invalid request.')}\n".encode()
            self.wfile.write(answer[:4])
            self.wfile.flush()
            self.wfile.write(answer[4:] + b"double\n")


class _Fake:
    fake: FakeSugar


class FakeSugar:
    def __init__(self) -> None:
        self.values = {"battery": "87.5", "battery_charging": "true"}
        self.requests: list[str] = []
        self.silent = False


@contextmanager
def serve(server: socketserver.BaseServer) -> Iterator[None]:
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


class _TCP(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


class _Unix(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


@pytest.fixture
def tcp_sugar() -> Iterator[tuple[FakeSugar, int]]:
    fake = FakeSugar()
    server = _TCP(("127.0.0.1", 0), _Handler)
    server.fake = fake  # type: ignore[attr-defined]
    with serve(server):
        yield fake, server.server_address[1]


@pytest.fixture
def unix_sugar() -> Iterator[tuple[FakeSugar, str]]:
    fake = FakeSugar()
    # AF_UNIX paths are limited to ~107 bytes; pytest's tmp_path can be longer.
    with tempfile.TemporaryDirectory(prefix="sugar") as directory:
        path = str(Path(directory) / "pisugar-server.sock")
        server = _Unix(path, _Handler)
        server.fake = fake  # type: ignore[attr-defined]
        with serve(server):
            yield fake, path


def test_tcp_reads_level_and_charging_through_noise(tcp_sugar: tuple[FakeSugar, int]) -> None:
    fake, port = tcp_sugar
    sensor = PiSugarBattery(port=port, timeout_s=2.0)
    reading = sensor.read()
    assert reading is not None
    assert reading.percent == pytest.approx(87.5)
    assert reading.charging is True
    assert fake.requests == ["get battery", "get battery_charging"]
    assert sensor.source == f"pisugar:127.0.0.1:{port}"

    fake.values = {"battery": "12.25", "battery_charging": "false"}
    reading = sensor.read()
    assert reading is not None and (reading.percent, reading.charging) == (12.25, False)


def test_unix_socket_reads_level_and_charging(unix_sugar: tuple[FakeSugar, str]) -> None:
    fake, path = unix_sugar
    fake.values["battery"] = "41"
    reading = PiSugarBattery(socket_path=path, timeout_s=2.0).read()
    assert reading is not None
    assert reading.percent == pytest.approx(41.0) and reading.charging is True


def test_unparseable_answer_is_unknown(tcp_sugar: tuple[FakeSugar, int]) -> None:
    fake, port = tcp_sugar
    fake.values["battery"] = "n/a"
    sensor = PiSugarBattery(port=port, timeout_s=2.0)
    assert sensor.read() is None
    assert sensor.health.problem is not None and not sensor.health.missing


def test_silent_server_times_out_quickly(tcp_sugar: tuple[FakeSugar, int]) -> None:
    fake, port = tcp_sugar
    fake.silent = True
    sensor = PiSugarBattery(port=port, timeout_s=0.3)
    started = time.monotonic()
    assert sensor.read() is None
    assert time.monotonic() - started < 1.0
    assert "no answer within 0.3 s" in (sensor.health.problem or "")
    assert fake.requests == ["get battery"]


def test_no_server_is_unknown_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="camera.governor.sensors")
    with tempfile.TemporaryDirectory() as directory:
        sensor = PiSugarBattery(socket_path=str(Path(directory) / "missing.sock"), timeout_s=0.2)
        for _ in range(3):
            assert sensor.read() is None
    assert len(caplog.records) == 1
    assert sensor.health.missing


def test_governor_low_pisugar_battery_restricts(tcp_sugar: tuple[FakeSugar, int]) -> None:
    fake, port = tcp_sugar
    fake.values = {"battery": "8", "battery_charging": "false"}
    config = GovernorConfig.model_validate(
        {
            "sensors": {
                "temperature": {"source": "off"},
                "throttle": {"enabled": False},
                "battery": {"source": "pisugar"},
                "pisugar": {"port": port, "timeout_s": 2.0},
            }
        }
    )
    policy = Governor(config).poll(0.0)
    assert policy.level == "battery-critical"
    assert policy.detect is False
    assert policy.readings["battery_pct"] == 8.0

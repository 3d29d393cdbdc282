"""TLS and passwords against a real mosquitto with a TLS listener and certificates made by
``openssl`` for this test: the right CA and password connect; an untrusted certificate, a
missing client certificate and a wrong password each give one clear line, are retried with
backoff, and never show the password."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from camera.mqtt import MqttAlertSink, Topics
from tests.broker import Certificates, Mosquitto, Subscriber, tls_broker, wait_until
from tests.cli_helpers import ronda, write_config
from tests.link_helpers import PREFIX, make_link, update

SECRET = "correct horse battery staple"


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return Certificates(tmp_path_factory.mktemp("certs"))


@pytest.fixture
def secure_broker(tmp_path: Path, certificates: Certificates) -> Iterator[Mosquitto]:
    broker = tls_broker(tmp_path, certificates, users={"ronda": SECRET})
    yield broker
    broker.stop()


def tls(certificates: Certificates, **extra: object) -> dict:
    return {"enabled": True, "ca_file": certificates.path("ca.crt"), **extra}


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def test_right_ca_and_password_deliver_alerts(
    tmp_path: Path,
    secure_broker: Mosquitto,
    certificates: Certificates,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("RONDA_MQTT_PASSWORD", SECRET)
    link, outbox = make_link(tmp_path, secure_broker.port, username="ronda", tls=tls(certificates))
    sink = MqttAlertSink(link, outbox, Topics(PREFIX))
    phone = Subscriber(
        secure_broker.host,
        secure_broker.port,
        topic=f"{PREFIX}/#",
        username="ronda",
        password=SECRET,
        tls_ca=certificates.path("ca.crt"),
    ).start()
    link.start()
    try:
        assert link.connected.wait(10), link.last_error
        sink.emit(update("tls1"), b"\xff\xd8jpeg")
        assert phone.wait_for(lambda s: s.unique_event_keys() == [("tls1", 1)])
        assert wait_until(lambda: outbox.depth() == 0, 5)
    finally:
        link.stop()
        phone.stop()
    assert SECRET not in caplog.text


def test_untrusted_certificate_is_refused_with_a_clear_line(
    tmp_path: Path, certificates: Certificates, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    rogue = tls_broker(tmp_path, certificates, server="rogue-server")
    link, _ = make_link(tmp_path, rogue.port, tls=tls(certificates))
    link.start()
    try:
        assert wait_until(lambda: link.last_error is not None, 10)
        assert link.last_error.startswith(
            f"TLS: the certificate of broker 127.0.0.1:{rogue.port} is not trusted"
        )
        assert "check mqtt.tls.ca_file" in link.last_error
        assert wait_until(lambda: "(still)" in caplog.text, 10)  # retried, not given up
        assert not link.connected.is_set()
        assert len(errors(caplog)) == 1  # one line, not one per retry
        assert errors(caplog)[0].endswith("; retrying with backoff")
    finally:
        link.stop()
        rogue.stop()


def test_wrong_password_over_tls_is_one_clear_line_without_the_password(
    tmp_path: Path,
    secure_broker: Mosquitto,
    certificates: Certificates,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    link, _ = make_link(
        tmp_path,
        secure_broker.port,
        username="ronda",
        password="not-the-" + SECRET,
        tls=tls(certificates),
    )
    link.start()
    try:
        assert wait_until(lambda: "(still)" in caplog.text, 15)
        assert link.last_error == (
            f"MQTT broker 127.0.0.1:{secure_broker.port} refused the login: Not authorized "
            "(user ronda, password from mqtt.password in the config file)"
        )
        assert len(errors(caplog)) == 1
    finally:
        link.stop()
    assert SECRET not in caplog.text


def test_client_certificate_when_the_broker_requires_one(
    tmp_path: Path, certificates: Certificates, caplog: pytest.LogCaptureFixture
) -> None:
    broker = tls_broker(tmp_path, certificates, require_certificate=True)
    client_certificate = {
        "cert_file": certificates.path("client.crt"),
        "key_file": certificates.path("client.key"),
    }
    try:
        with_cert, _ = make_link(tmp_path, broker.port, tls=tls(certificates, **client_certificate))
        with_cert.start()
        assert with_cert.connected.wait(10), with_cert.last_error
        with_cert.stop()

        without, _ = make_link(tmp_path, broker.port, tls=tls(certificates))
        without.start()
        try:
            assert wait_until(lambda: without.last_error is not None, 10)
            assert without.last_error.startswith(
                f"MQTT broker 127.0.0.1:{broker.port} closed the connection during the login"
            )
            assert "client certificate" in without.last_error
            assert without.last_error.endswith("set mqtt.tls.cert_file and key_file")
            assert not without.connected.is_set()
        finally:
            without.stop()
    finally:
        broker.stop()


def test_doctor_names_the_problem_and_never_the_password(
    tmp_path: Path, secure_broker: Mosquitto, certificates: Certificates
) -> None:
    mqtt = {
        "host": secure_broker.host,
        "port": secure_broker.port,
        "username": "ronda",
        "tls": {"enabled": True, "ca_file": str(certificates.path("ca.crt"))},
    }
    skip = ["--skip", "camera", "--skip", "runtime", "--skip", "models"]
    (tmp_path / "wrong").mkdir()
    (tmp_path / "right").mkdir()
    wrong = write_config(tmp_path / "wrong", mqtt={**mqtt, "password": "not-the-" + SECRET})
    result = ronda("doctor", "--config", wrong, *skip, timeout=120)
    output = result.stdout + result.stderr
    assert "refused the login: Not authorized" in output
    assert "password from mqtt.password in the config file" in output
    assert SECRET not in output

    right = write_config(tmp_path / "right", mqtt=mqtt)
    env = {**os.environ, "RONDA_MQTT_PASSWORD": SECRET}
    result = ronda("doctor", "--config", right, *skip, timeout=120, env=env)
    output = result.stdout + result.stderr
    assert f"logged in to 127.0.0.1:{secure_broker.port} (TLS, user ronda" in output
    assert "password from environment variable RONDA_MQTT_PASSWORD" in output
    assert SECRET not in output

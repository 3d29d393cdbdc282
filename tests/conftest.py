"""Shared fixtures: footage paths, a real mosquitto broker, a real subscriber."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _pytest.capture import CaptureFixture

from tests.broker import Mosquitto, Subscriber

TEST_MODEL_TIMINGS = {
    "picodet-s416-float32": 240.0,
    "picodet-s320-float32": 140.0,
}
"""A Pi-4-like device (2 threads) where float32 416 fits the default 300 ms budget: ``auto``
runs picodet-s416-float32 and the governor's ladder steps to picodet-s320-float32.  Tests must
not depend on the speed of the machine they run on, so no test times the models for real unless
it says so; set in the environment so that subprocesses (``ronda replay`` ...) see it too."""
os.environ["RONDA_MODEL_TIMINGS"] = ",".join(f"{k}={v:g}" for k, v in TEST_MODEL_TIMINGS.items())

FOOTAGE = Path(__file__).resolve().parent / "footage"
"""Real third-party clips and photos with labels, carried by the repository (see its README)."""

CANARY_PASSWORD = "canary-pw-5a1d9e-never-print-me"
"""The MQTT password every test config carries (``tests/cli_helpers.write_config`` and the other
config builders put it in ``mqtt.password``).  No test's output may ever contain it: what pytest
captured (stdout, stderr, logs), what a test read with ``capsys``/``capfd``, and the output of
every subprocess a test ran are checked after each test, which fails if the canary shows up."""

_seen_output: list[str] = []


def _remember(value: Any) -> None:
    for part in value if isinstance(value, tuple) else (value,):
        if isinstance(part, bytes):
            part = part.decode("utf-8", "replace")
        if isinstance(part, str) and part:
            _seen_output.append(part)


_readouterr = CaptureFixture.readouterr
_communicate = subprocess.Popen.communicate


def _readouterr_remembered(self: CaptureFixture, *args: Any, **kwargs: Any) -> Any:
    result = _readouterr(self, *args, **kwargs)
    _remember(tuple(result))
    return result


def _communicate_remembered(self: subprocess.Popen, *args: Any, **kwargs: Any) -> Any:
    result = _communicate(self, *args, **kwargs)
    _remember(tuple(result))
    return result


CaptureFixture.readouterr = _readouterr_remembered  # type: ignore[method-assign]
subprocess.Popen.communicate = _communicate_remembered  # type: ignore[method-assign]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """Fail the test whose captured output, logs or subprocess output contain the canary."""
    if call.when == "setup":
        _seen_output.clear()
    outcome = yield
    report = outcome.get_result()
    texts = [content for _, content in report.sections] + _seen_output
    if report.outcome != "failed" and any(CANARY_PASSWORD in text for text in texts):
        report.outcome = "failed"
        report.longrepr = (
            f"the MQTT password of the test config ({CANARY_PASSWORD!r}) appeared in the "
            f"output or the log during {call.when}: a secret was printed"
        )


def footage(relative: str) -> Path:
    """A file of the repository's footage; a missing one is a broken checkout, not a skip."""
    path = FOOTAGE / relative
    if not path.exists():
        raise FileNotFoundError(f"footage {path} is missing from the checkout")
    return path


FOOTAGE_MANIFESTS = (FOOTAGE / "manifest.json", FOOTAGE / "real" / "manifest.json")
"""The repository's labelled footage: the first clips, and the real set (``tests/footage/real``)."""


def footage_labels(relative: str) -> dict:
    """The manifest item of ``relative`` (a path under ``tests/footage``), from its manifest."""
    for manifest in FOOTAGE_MANIFESTS:
        folder = manifest.parent.relative_to(FOOTAGE)
        for item in json.loads(manifest.read_text())["items"]:
            if (folder / item["path"]).as_posix() == relative:
                return item
    raise KeyError(relative)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """A mosquitto on a free loopback port, anonymous, no persistence."""
    server = Mosquitto(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def module_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    """One broker for a module's tests (the browser tests' cameras run across several)."""
    server = Mosquitto(tmp_path_factory.mktemp("broker"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def subscriber(broker: Mosquitto) -> Iterator[Subscriber]:
    client = Subscriber(broker.host, broker.port, topic="ronda/#").start()
    yield client
    client.stop()


@pytest.fixture
def persistent_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """A broker that keeps sessions and queued QoS 1 messages across ``stop()``/``start()``."""
    server = Mosquitto(tmp_path, persistence=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def phone(persistent_broker: Mosquitto) -> Iterator[Subscriber]:
    """A subscriber to ``ronda/#`` with a persistent session, like a phone app: it misses
    nothing published while the broker restarts."""
    client = Subscriber(
        persistent_broker.host,
        persistent_broker.port,
        topic="ronda/#",
        client_id="phone",
        clean_session=False,
    ).start()
    yield client
    client.stop()


@pytest.fixture
def fake_picamera2(monkeypatch: pytest.MonkeyPatch):
    """The fake picamera2 package (tests/fake_picamera2), importable as ``picamera2``, with a
    fresh script; its submodules (encoders, outputs) are unloaded afterwards too."""
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parent / "fake_picamera2"))
    for name in [m for m in sys.modules if m == "picamera2" or m.startswith("picamera2.")]:
        monkeypatch.delitem(sys.modules, name)
    import picamera2

    yield picamera2
    picamera2.reset()
    for name in [m for m in sys.modules if m == "picamera2" or m.startswith("picamera2.")]:
        sys.modules.pop(name, None)


@pytest.fixture(scope="session")
def demo_scene(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``ronda demo``'s scene (a person, then a cat; 160 frames), built once per session."""
    from camera.demo import build_scene

    return build_scene(tmp_path_factory.mktemp("demo-scene"))

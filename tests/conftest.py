"""Shared fixtures: footage paths, a real mosquitto broker, a real subscriber."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.broker import Mosquitto, Subscriber

FOOTAGE = Path("../shared/footage")


def footage(relative: str) -> Path:
    """A file from the shared footage, or skip the test with the reason."""
    path = FOOTAGE / relative
    if not path.exists():
        pytest.skip(f"footage {path} is absent (tests expect ../shared/footage beside the repo)")
    return path


def footage_labels(relative: str) -> dict:
    manifest = FOOTAGE / "manifest.json"
    if not manifest.exists():
        pytest.skip(f"{manifest} is absent")
    for item in json.loads(manifest.read_text())["items"]:
        if item["path"] == relative:
            return item
    raise KeyError(relative)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """A mosquitto on a free loopback port, anonymous, no persistence."""
    server = Mosquitto(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def subscriber(broker: Mosquitto) -> Iterator[Subscriber]:
    client = Subscriber(broker.host, broker.port, topic="ronda/#").start()
    yield client
    client.stop()

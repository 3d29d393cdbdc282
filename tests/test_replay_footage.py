"""Whole-pipeline replays of real footage, through the real CLI, to a real broker.

These are the product's promises on recorded scenes: one alert per person who walks in, a dog is
a pet and never a person, and every thumbnail arrives.  That cars and an empty road raise no
event is checked on the same clips by ``tests/test_eval.py``, whose one replay of the repository's
footage runs them with this configuration.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.broker import Mosquitto, Subscriber
from tests.cli_helpers import ronda, write_config
from tests.conftest import footage

pytestmark = pytest.mark.slow


def replay(
    tmp_path: Path, clip: str, broker: Mosquitto | None = None, **sections: dict
) -> list[dict]:
    mqtt = {"host": broker.host, "port": broker.port} if broker else {"enabled": False}
    config = write_config(tmp_path, mqtt=mqtt, **sections)
    jsonl = tmp_path / "events.jsonl"
    result = ronda("replay", footage(clip), "--config", config, "--events-jsonl", jsonl)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "frames" in result.stdout  # the summary paragraph
    return [json.loads(line) for line in jsonl.read_text().splitlines()]


def starts(updates: list[dict]) -> Counter[str]:
    return Counter(u["label"] for u in updates if u["type"] == "start")


def test_one_by_one_person_events_reach_the_subscriber(
    tmp_path: Path, broker: Mosquitto, subscriber: Subscriber
) -> None:
    updates = replay(tmp_path, "clips/intel_one-by-one-person-detection.mp4", broker)
    people = starts(updates)
    assert people["person"] == 6, updates  # six people walk in, one after the other
    assert people["pet"] == 0
    # Every event that started also ended, in order, with its thumbnail on the named topic.
    ids = {u["id"] for u in updates if u["type"] == "start"}
    assert ids == {u["id"] for u in updates if u["type"] == "end"}
    assert subscriber.wait_for(lambda s: len(s.events()) == len(updates))
    received = subscriber.events()
    assert [(e["id"], e["sequence"]) for e in received] == [
        (u["id"], u["sequence"]) for u in updates
    ]
    with_thumbnail = [u for u in updates if u["has_thumbnail"]]
    assert subscriber.wait_for(lambda s: len(s.thumbnails()) == len(with_thumbnail))
    for message in subscriber.thumbnails():
        image = cv2.imdecode(np.frombuffer(message.payload, np.uint8), cv2.IMREAD_COLOR)
        assert image is not None and image.size > 0
        assert len(message.payload) <= 40_000
    topics = {u["thumbnail_topic"] for u in with_thumbnail}
    assert topics == {m.topic for m in subscriber.thumbnails()}
    first = received[0]
    for key in (
        "id",
        "camera",
        "type",
        "label",
        "subclass",
        "score",
        "box",
        "frame_time",
        "start_time",
        "end_time",
        "thumbnail_topic",
        "model_precision",
    ):
        assert key in first
    assert subscriber.wait_for(
        lambda s: s.on("/person")[-1:] and s.on("/person")[-1].payload == b"OFF"
    )


def test_at_the_hot_frame_rate_every_visitor_still_alerts(tmp_path: Path) -> None:
    """5 fps (the governor's hot and battery-low rate): the tracker sees each person on half as
    many frames, often first when they already stand where the previous one stood.  They are
    still six visits: a stranger at the same spot is not "the resting object seen again"."""
    updates = replay(
        tmp_path, "clips/intel_one-by-one-person-detection.mp4", governor={"normal_fps": 5}
    )
    assert starts(updates) == {"person": 6}, updates


def test_dog_is_a_pet_never_a_person(tmp_path: Path) -> None:
    updates = replay(tmp_path, "clips/opencvcourse_dog.mp4")
    labels = starts(updates)
    assert labels["pet"] >= 1
    assert labels["person"] == 0
    assert all(u["label"] != "person" for u in updates)
    assert {u["subclass"] for u in updates if u["label"] == "pet"} <= {"dog", "cat"}

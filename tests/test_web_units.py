"""The web page's parts on their own: the loop's seam, the live hook, the editor's YAML, the
store's queries, the login throttle."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest

from camera.app import stage_configs
from camera.config import ConfigFileWatch, RondaConfig, parse_config
from camera.pipeline import FrameOutcome, Pipeline
from camera.site.auth import LoginThrottle, PasswordFile, Sessions
from camera.sources.video import VideoFileSource
from camera.store import Database, EventFilter, EventStore
from camera.types import Frame, Policy
from camera.web.areas import AreaError, Areas, render
from camera.web.broker_stats import BrokerStats
from camera.web.context import WebContext
from camera.web.health import health_payload
from camera.web.live import LiveFeed
from tests.broker import Mosquitto
from tests.conftest import footage
from tests.web_helpers import event_update

WHOLE_FRAME = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]


def _frame(index: int, bright_square: bool) -> Frame:
    image = np.full((240, 320, 3), 90, np.uint8)
    if bright_square:
        x = 40 + 8 * (index % 20)
        image[80:160, x : x + 60] = 230
    return Frame(image=image, timestamp=index / 10, index=index)


def test_masks_requested_from_another_thread_apply_at_the_next_frame() -> None:
    config = RondaConfig()
    pipeline = Pipeline(
        camera="t", topic_prefix="t", stages=stage_configs(config), detector=None, sinks=[]
    )
    for index in range(30):  # a moving square: motion, frame after frame
        pipeline.process(_frame(index, bright_square=index >= 10))
    assert pipeline.stats.motion_frames > 0
    masked = config.model_copy(
        update={"motion": config.motion.model_copy(update={"masks": [WHOLE_FRAME]})}
    )
    thread = threading.Thread(target=pipeline.request_stages, args=(stage_configs(masked),))
    thread.start()
    thread.join()
    assert pipeline.stages.motion.masks == []  # nothing changes between frames
    counted = pipeline.stats.motion_frames
    for index in range(30, 60):
        pipeline.process(_frame(index, bright_square=True))
    assert pipeline.stages.motion.masks == [WHOLE_FRAME]
    assert pipeline.stats.motion_frames == counted


def _outcome(index: int) -> FrameOutcome:
    return FrameOutcome(frame=_frame(index, True), processed=True, policy=Policy())


def test_live_feed_publishes_nothing_without_viewers_and_a_small_copy_with_them() -> None:
    feed = LiveFeed(fps=5, width=160)
    woken: list[int] = []
    feed.on_frame = lambda: woken.append(1)
    feed(_outcome(1))
    assert feed.latest is None and not woken
    feed.watch()
    feed(_outcome(2))
    feed(_outcome(3))  # within 1/5 s of the last publish: skipped
    assert feed.latest is not None and feed.latest.image.shape == (120, 160, 3)
    assert feed.latest.sequence == 1 and len(woken) == 1
    feed.unwatch()
    assert feed.viewers == 0


def test_file_source_loops_with_a_running_timeline() -> None:
    clip = footage("clips/intel_people-detection_preview.gif")  # 23 frames
    source = VideoFileSource(clip, loop=True)
    frames = []
    for frame in source.frames():
        frames.append(frame)
        if len(frames) == 50:
            break
    source.close()
    times = [f.timestamp for f in frames]
    assert times == sorted(times) and len(set(times)) == 50
    assert [f.index for f in frames] == list(range(50))


def test_editor_keeps_comments_and_refuses_with_the_models_words() -> None:
    text = "# mine\ncamera:\n  name: yard  # the yard\nmotion:\n  masks: []  # none yet\n"
    new, config = render(text, Areas(masks=[WHOLE_FRAME], zones={"gate": WHOLE_FRAME[:3]}), "f")
    assert "# mine" in new and "# the yard" in new and "# none yet" in new
    assert config.motion.masks == [WHOLE_FRAME] and list(config.zones) == ["gate"]
    assert parse_config(__import__("yaml").safe_load(new)) == config
    with pytest.raises(AreaError) as error:
        render(text, Areas(masks=[[(0.0, 0.0), (2.0, 0.0), (0.0, 1.0)]], zones={}), "f")
    assert error.value.issues[0].path == "motion.masks"
    assert "outside 0..1" in error.value.issues[0].line
    with pytest.raises(AreaError) as error:
        render(text, Areas(masks=[], zones={"a b": WHOLE_FRAME}), "f")
    assert error.value.issues[0].path.startswith("zones")
    with pytest.raises(AreaError):
        Areas.from_json({"masks": [[["0", 1]]], "zones": {}})


def test_store_filters_lists_updates_and_deletes_with_files(tmp_path: Path) -> None:
    database = Database(tmp_path / "db.sqlite3")
    store = EventStore(database, RondaConfig().store)
    store.record(event_update("a-0001", "person", "start", 1), b"jpeg")
    store.record(event_update("a-0001", "person", "end", 2), None)
    store.record(event_update("a-0002", "pet", "start", 1), b"jpeg")
    assert [e.id for e in store.find(EventFilter())] == ["a-0002", "a-0001"]
    assert [e.id for e in store.find(EventFilter(label="person"))] == ["a-0001"]
    assert store.find(EventFilter(since=4e9)) == []
    assert [u.type for u in store.updates("a-0001")] == ["start", "end"]
    assert store.labels() == ["person", "pet"]
    thumbnail = store.get("a-0001").thumbnail  # type: ignore[union-attr]
    assert thumbnail is not None and thumbnail.exists()
    assert store.delete("a-0001") and not thumbnail.exists()
    assert store.get("a-0001") is None and store.updates("a-0001") == []
    assert not store.delete("a-0001")
    database.close()


def test_throttle_counts_per_address_and_forgets_after_the_window() -> None:
    throttle = LoginThrottle(attempts=2, window_s=60)
    throttle.failed("10.0.0.1", now=0)
    assert throttle.retry_after("10.0.0.1", now=1) is None
    throttle.failed("10.0.0.1", now=1)
    assert throttle.retry_after("10.0.0.1", now=2) == pytest.approx(58)
    assert throttle.retry_after("10.0.0.2", now=2) is None
    assert throttle.retry_after("10.0.0.1", now=61.5) is None


def test_password_file_and_sessions(tmp_path: Path) -> None:
    passwords = PasswordFile(tmp_path)
    assert not passwords.is_set() and not passwords.verify("anything")
    passwords.set("long enough")
    assert "long enough" not in passwords.path.read_text()
    assert passwords.path.stat().st_mode & 0o777 == 0o600
    assert passwords.verify("long enough") and not passwords.verify("long enougH")
    sessions = Sessions(lifetime_s=10)
    session = sessions.create(now=0)
    assert sessions.get(session.token, now=5) is session
    assert sessions.get(session.token, now=11) is None


def test_config_file_watch_returns_each_valid_change_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "ronda.yaml"
    path.write_text("camera:\n  name: yard\n")
    watch = ConfigFileWatch(path, interval_s=0)
    assert watch.poll() is None  # unchanged
    path.write_text("camera:\n  name: yard\nmotion:\n  masks: [[[0, 0], [1, 0], [1, 1]]]\n")
    os.utime(path, ns=(1, 10**18))
    changed = watch.poll()
    assert changed is not None and len(changed.motion.masks) == 1
    assert watch.poll() is None  # once per change
    path.write_text("motion:\n  masks: [[[0, 0], [2, 0], [1, 1]]]\n")
    os.utime(path, ns=(1, 2 * 10**18))
    assert watch.poll() is None
    assert "not used (the running one stays)" in caplog.text and "outside 0..1" in caplog.text


def test_removing_a_zone_an_alert_rule_needs_is_refused_naming_the_rule() -> None:
    text = (
        "zones:\n  door: {points: [[0, 0], [1, 0], [1, 1]]}\n"
        "tracker:\n  labels:\n    person: {alert_zones: [door]}  # alerts only at the door\n"
    )
    with pytest.raises(AreaError) as error:
        render(text, Areas(masks=[], zones={}), "f")
    assert error.value.issues[0].path.startswith("tracker.labels.person.alert_zones")
    kept, config = render(text, Areas(masks=[], zones={"door": WHOLE_FRAME}), "f")
    assert "# alerts only at the door" in kept and list(config.zones) == ["door"]


def test_browsing_without_a_camera_shows_the_services_stats_from_the_broker(
    tmp_path: Path, broker: Mosquitto
) -> None:
    import json
    import time

    import paho.mqtt.client as mqtt
    import paho.mqtt.publish as publish

    config = parse_config(
        {
            "camera": {"name": "yard"},
            "store": {"path": str(tmp_path)},
            "mqtt": {"host": broker.host, "port": broker.port},
        }
    )
    stats = {"camera": "yard", "time": time.time() - 30, "fps": 9.5, "governor_level": "warm"}
    publish.single(
        "ronda/yard/stats",
        json.dumps(stats),
        qos=1,
        retain=True,
        hostname=broker.host,
        port=broker.port,
        protocol=mqtt.MQTTv311,
    )
    database = Database(tmp_path / "ronda.sqlite3")
    context = WebContext(
        config=config, config_path=None, database=database, stats=BrokerStats(config)
    )
    health = health_payload(context)
    assert health["camera_running"] is False and health["fps"] == 9.5
    assert health["governor_level"] == "warm" and 29 <= health["stats_age_s"] < 60
    broker.stop()  # within the cache time the page does not ask again
    assert health_payload(context)["fps"] == 9.5
    closed = config.model_copy(update={"mqtt": config.mqtt.model_copy(update={"port": 1})})
    nobody = WebContext(
        config=closed,
        config_path=None,
        database=database,
        stats=BrokerStats(closed, timeout_s=0.5),
    )
    assert "unreachable" in health_payload(nobody)["stats_problem"]
    database.close()


def test_health_is_not_ok_when_frames_stop(tmp_path: Path) -> None:
    import time

    config = parse_config({"store": {"path": str(tmp_path)}, "mqtt": {"enabled": False}})
    database = Database(tmp_path / "ronda.sqlite3")
    feed = LiveFeed(fps=2, width=320)
    context = WebContext(config=config, config_path=None, database=database, live=feed)
    assert health_payload(context)["ok"] is False  # no frame yet
    feed(_outcome(1))  # nobody watching: still noted, nothing published
    assert feed.latest is None
    assert health_payload(context)["ok"] is True
    feed.last_frame = time.monotonic() - 31
    payload = health_payload(context)
    assert payload["ok"] is False and payload["last_frame_s"] >= 31
    database.close()

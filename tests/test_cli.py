"""The command line on bad input: one clear line, the right exit code, nothing lost."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.broker import free_port, password_broker
from tests.cli_helpers import ronda, write_config
from tests.conftest import footage

GIF = "clips/intel_worker-zone-detection_preview.gif"


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("ronda:")]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_help_documents_every_command() -> None:
    result = ronda("--help")
    assert result.returncode == 0
    for command in ("run", "replay", "demo", "events", "models"):
        assert command in result.stdout
    replay = ronda("replay", "--help").stdout
    for option in ("--config", "--realtime", "--events-jsonl", "--no-mqtt"):
        assert option in replay


def test_missing_video(tmp_path: Path) -> None:
    result = ronda("replay", tmp_path / "missing.mp4", "--no-mqtt", "--state-dir", tmp_path)
    assert result.returncode == 1
    assert one_line(result.stderr) == f"ronda: video not found: {tmp_path / 'missing.mp4'}"


def test_corrupt_video(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.avi"
    corrupt.write_bytes(b"RIFF" + b"\x00" * 4000)
    result = ronda("replay", corrupt, "--no-mqtt", "--state-dir", tmp_path)
    assert result.returncode == 1
    assert "cannot decode video" in one_line(result.stderr)


def test_unknown_key_names_file_and_key(tmp_path: Path) -> None:
    config = write_config(tmp_path, motion={"sensitivty": "high"})
    result = ronda("replay", footage(GIF), "--config", config, "--no-mqtt")
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert str(config) in line and "motion.sensitivty" in line and "unknown key" in line


def test_wrong_type_and_out_of_range(tmp_path: Path) -> None:
    config = write_config(tmp_path, mqtt={"port": 70000}, tracker={"confirm_frames": "many"})
    result = ronda("replay", footage(GIF), "--config", config, "--no-mqtt")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "mqtt.port" in result.stderr and "70000" in result.stderr
    assert "tracker.confirm_frames" in result.stderr


def test_invalid_yaml_gives_the_line(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("mqtt:\n  host: [unclosed\n")
    result = ronda("events", "--config", config)
    assert result.returncode == 2
    assert f"config error in {config} line" in one_line(result.stderr)


def test_unreachable_broker_keeps_alerts_queued(tmp_path: Path) -> None:
    port = free_port()  # nothing listens here
    config = write_config(
        tmp_path,
        mqtt={"port": port, "drain_timeout_s": 0.5, "reconnect_max_s": 1.0},
    )
    jsonl = tmp_path / "events.jsonl"
    result = ronda("replay", footage(GIF), "--config", config, "--events-jsonl", jsonl)
    assert result.returncode == 3, result.stderr
    produced = len(jsonl.read_text().splitlines())
    assert produced >= 2  # the worker walks through the whole clip: start and end
    assert "still queued" in result.stderr and "refused the connection" in result.stderr
    with sqlite3.connect(tmp_path / "state" / "ronda.sqlite3") as db:
        (events,) = db.execute(
            "SELECT COUNT(*) FROM outbox WHERE topic = 'ronda/test/events'"
        ).fetchone()
    assert events == produced  # nothing lost: every update waits on disk


def test_wrong_password_is_reported_clearly(tmp_path: Path) -> None:
    broker = password_broker(tmp_path, "ronda", "right")
    try:
        config = write_config(
            tmp_path,
            mqtt={
                "port": broker.port,
                "username": "ronda",
                "password": "wrong-pw",
                "drain_timeout_s": 0.5,
            },
        )
        result = ronda("replay", footage(GIF), "--config", config)
    finally:
        broker.stop()
    assert result.returncode == 3
    assert "refused the login" in result.stderr
    assert "wrong-pw" not in result.stderr + result.stdout

"""``ronda doctor`` against real things: a password-protected mosquitto, the real models (and a
corrupted copy), real footage as the camera.  Exit 0 when it can work; otherwise non-zero with
one line and a fix per failure, and the MQTT password never appears in what it prints."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.accel_helpers import device_tree
from tests.broker import Mosquitto, free_port, password_broker
from tests.cli_helpers import REPO, ronda, write_config
from tests.conftest import footage

USER, PASSWORD, WRONG = "camera", "s3cret-Doctor-pw", "not-the-Password"
CLIP = "clips/intel_one-by-one-person-detection.mp4"


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[Mosquitto]:
    folder = tmp_path / "broker"
    folder.mkdir()
    server = password_broker(folder, USER, PASSWORD)
    yield server
    server.stop()


def doctor_config(tmp_path: Path, port: int, password: str, **sections: dict) -> Path:
    secret = tmp_path / "mqtt-password"
    secret.write_text(password + "\n")
    return write_config(
        tmp_path,
        source={"kind": "file", "uri": str(footage(CLIP).resolve())},
        mqtt={"host": "127.0.0.1", "port": port, "username": USER, "password_file": str(secret)},
        **sections,
    )


def lines_of(stdout: str) -> dict[str, str]:
    """``{check name: its line}``."""
    return {line.split()[1]: line for line in stdout.splitlines() if line[:4].strip() in
            {"ok", "warn", "FAIL", "skip"}}  # fmt: skip


def doctor(config: Path):
    result = ronda("doctor", "--config", config, timeout=120)
    for secret in (PASSWORD, WRONG):
        assert secret not in result.stdout and secret not in result.stderr
    return result, lines_of(result.stdout)


def test_a_good_setup_passes(tmp_path: Path, secured: Mosquitto) -> None:
    result, checks = doctor(doctor_config(tmp_path, secured.port, PASSWORD))
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("config", "models", "detector", "runtime", "camera", "broker", "disk"):
        assert checks[name].startswith("ok "), checks[name]
    assert "the CPU (detector.backend auto" in checks["detector"]
    assert "sha256 ok" in checks["models"] and "inference in" in checks["runtime"]
    assert "768x432 frame" in checks["camera"]
    assert f"logged in to 127.0.0.1:{secured.port}" in checks["broker"]
    assert f"user {USER}, password from file" in checks["broker"]
    assert checks["sensors"].split()[0] in {"ok", "warn"}  # this machine may have no sensors
    assert result.stdout.rstrip().endswith("all checks passed")


def test_a_wrong_password_fails_with_the_fix_and_never_shows_a_password(
    tmp_path: Path, secured: Mosquitto
) -> None:
    result, checks = doctor(doctor_config(tmp_path, secured.port, WRONG))
    assert result.returncode == 1
    line = checks["broker"]
    assert line.startswith("FAIL") and "refused the login" in line
    assert "-> fix: check mqtt.username and the password" in line
    assert result.stdout.rstrip().endswith("1 check(s) failed: broker")


def test_an_unreachable_broker_fails_with_the_fix(tmp_path: Path) -> None:
    result, checks = doctor(doctor_config(tmp_path, free_port(), PASSWORD))
    assert result.returncode == 1
    line = checks["broker"]
    assert line.startswith("FAIL") and "refused the connection" in line
    assert "-> fix: check mqtt.host and mqtt.port" in line


def test_a_corrupted_model_copy_fails_with_the_fix(tmp_path: Path, secured: Mosquitto) -> None:
    models = tmp_path / "models"
    shutil.copytree(REPO / "models", models, ignore=shutil.ignore_patterns("build-cache", "*.py"))
    victim = models / "picodet_s320_float32.tflite"
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    config = doctor_config(
        tmp_path, secured.port, PASSWORD, detector={"manifest": str(models / "manifest.json")}
    )
    result, checks = doctor(config)
    assert result.returncode == 1
    assert checks["models"].startswith("FAIL") and "sha256 mismatch" in checks["models"]
    assert str(victim) in checks["models"] and "-> fix: reinstall the models" in checks["models"]
    # The camera runs without that one variant (fail alone), and says so.
    runtime = checks["runtime"]
    assert runtime.startswith("warn") and "without picodet-s320-float32" in runtime
    assert checks["broker"].startswith("ok")  # the other checks still ran


def test_a_broken_config_is_one_failure_and_the_rest_is_skipped(tmp_path: Path) -> None:
    config = write_config(tmp_path, mqtt={"port": 70000})
    result, checks = doctor(config)
    assert result.returncode == 1
    assert checks["config"].startswith("FAIL") and "mqtt.port" in checks["config"]
    assert all(checks[name].startswith("skip") for name in ("models", "camera", "broker"))


def test_the_detector_line_with_and_without_each_fake_device(tmp_path: Path) -> None:
    """The fake picamera2, AI Camera and Hailo (tests/fake_picamera2) in a device tree: the
    line says where ``ronda run`` would detect; the AI Camera's network opens with the camera."""
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'tests' / 'fake_picamera2'}:{REPO}"}
    outputs = {}
    for name, devices in (("none", {}), ("imx500", {"imx500": True}), ("hailo", {"hailo": True})):
        root = device_tree(tmp_path / name / "root", **devices)
        (tmp_path / name).mkdir(exist_ok=True)
        config = write_config(
            tmp_path / name,
            source={"kind": "picamera2"},
            detector={"device_root": str(root)},
            governor={"sensors": {"sysfs_root": str(root / "sys"), "vcgencmd": "/nonexistent"}},
        )
        result = ronda(
            "doctor", "--config", config, "--skip", "broker",
            "--skip", "outbox", "--frame-timeout", "20", env=env, timeout=120,
        )  # fmt: skip
        outputs[name] = result.stdout
        checks = lines_of(result.stdout)
        assert checks["camera"].startswith("ok "), result.stdout + result.stderr
    assert "ok    detector the CPU (detector.backend auto" in outputs["none"]
    assert "AI Camera: no AI Camera" in outputs["none"] and "Hailo: no Hailo" in outputs["none"]
    assert "detector AI Camera at v4l-subdev2, network imx500_network_nanodet" in outputs["imx500"]
    assert "the AI Camera's network output (nanodet_plus_416x416_pp)" in outputs["imx500"]
    assert "yolov8s_h8l.hef: one 640 px inference in" in outputs["hailo"]
    # The CPU model stands by for the accelerator: the runtime table does not say it runs.
    assert "<- runs" in outputs["none"] and "<- runs" not in outputs["imx500"] + outputs["hailo"]
    assert "ms (the Hailo's fallback)" in outputs["hailo"]
    (tmp_path / "doctor-outputs.txt").write_text("\n".join(outputs.values()))

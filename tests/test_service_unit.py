"""systemd/ronda.service: systemd itself accepts it, and it says what the service relies on.

``systemd-analyze verify`` refuses a unit whose ExecStart binary does not exist, and
/opt/ronda/venv/bin/ronda exists only after an install; so the test verifies a copy whose
ExecStart names an executable that exists here (this checkout's ``ronda``, or the Python
running the tests), with every other line unchanged.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_helpers import REPO

UNIT = REPO / "systemd" / "ronda.service"
INSTALLED_RONDA = "/opt/ronda/venv/bin/ronda"


def directives(text: str) -> dict[str, dict[str, list[str]]]:
    """``{section: {key: [values...]}}``: systemd keys may repeat (Environment=)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key, []).append(value)
    return sections


def test_systemd_analyze_verify_accepts_the_unit(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (apt-get install systemd); CI installs it")
    executable = shutil.which("ronda") or sys.executable
    text = UNIT.read_text()
    assert text.count(INSTALLED_RONDA) == 1
    copy = tmp_path / "ronda.service"
    copy.write_text(text.replace(INSTALLED_RONDA, executable))
    result = subprocess.run([analyze, "verify", str(copy)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    # Unknown keys or bad values are only warnings to verify: none is allowed here.
    assert str(copy) not in result.stderr and "ronda.service" not in result.stderr, result.stderr


def test_the_unit_is_a_watched_notify_service_that_keeps_the_camera_visible() -> None:
    unit = directives(UNIT.read_text())
    service, start = unit["Service"], unit["Unit"]
    one = {key: values[-1] for key, values in service.items()}
    assert one["Type"] == "notify" and one["NotifyAccess"] == "main"
    assert one["ExecStart"] == f"{INSTALLED_RONDA} run --config /etc/ronda/ronda.yaml"
    assert one["Restart"] == "on-failure"
    assert int(start["StartLimitBurst"][0]) >= 3 and int(start["StartLimitIntervalSec"][0]) > 0
    assert 10 <= int(one["WatchdogSec"]) <= 120
    assert int(one["TimeoutStartSec"]) >= 120  # model loading on a Pi Zero 2 W
    assert int(one["TimeoutStopSec"]) > 10  # > mqtt.drain_timeout_s, the outbox flush
    assert one["User"] == "ronda" and one["SupplementaryGroups"] == "video"
    assert one["StateDirectory"] == "ronda" and one["ConfigurationDirectory"] == "ronda"
    assert set(service["Environment"]) == {"PYTHONUNBUFFERED=1", "LIBCAMERA_LOG_LEVELS=*:WARN"}
    for key, value in {
        "ProtectSystem": "strict",
        "ProtectHome": "true",
        "PrivateTmp": "true",
        "NoNewPrivileges": "true",
        "ProtectKernelTunables": "true",
        "ProtectKernelModules": "true",
        "ProtectControlGroups": "true",
        "LockPersonality": "true",
        "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
    }.items():
        assert one[key] == value, key
    # Anything that hides /dev/video*, /dev/dma_heap or /dev/vchiq would blind the camera.
    for blinding in ("PrivateDevices", "DevicePolicy", "DeviceAllow", "ProtectClock"):
        assert blinding not in service, blinding
    assert unit["Install"]["WantedBy"] == ["multi-user.target"]

"""systemd/ronda.service: systemd itself accepts it, and it says what the service relies on.

``systemd-analyze verify`` refuses a unit whose ExecStart binary does not exist, and
/opt/ronda/venv/bin/ronda exists only after an install; so the test verifies a copy whose
ExecStart names an executable that exists here (this checkout's ``ronda``, or the Python
running the tests), with every other line unchanged.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_helpers import REPO

UNIT = REPO / "systemd" / "ronda.service"
INSTALLED_RONDA = "/opt/ronda/venv/bin/ronda"
MAX_EXPOSURE = 2.5
"""``systemd-analyze security``: 0 is a locked box, 10 an unprotected service; 5.7 before
issue 22, 1.9 since. The camera keeps its devices, its network and /proc/cpuinfo."""


def exposure(analyze_output: str) -> float:
    """The overall score from ``systemd-analyze security`` output (its last line)."""
    found = re.search(r"Overall exposure level for \S+: ([0-9.]+)", analyze_output)
    assert found, analyze_output[-500:]
    return float(found.group(1))


def offline_exposure(unit: Path) -> float:
    """The score of a unit file, without a running systemd (``--offline=yes``, systemd 250+)."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (apt-get install systemd); CI installs it")
    result = subprocess.run(
        [analyze, "security", "--offline=yes", "--no-pager", str(unit)],
        capture_output=True,
        text=True,
    )
    if "--offline" in result.stderr:
        pytest.skip(f"this systemd-analyze cannot score a unit file offline: {result.stderr}")
    assert result.returncode == 0, result.stderr
    return exposure(result.stdout)


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


def verify(text: str, folder: Path) -> None:
    """``systemd-analyze verify`` accepts ``text`` with ExecStart pointed at a real executable."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (apt-get install systemd); CI installs it")
    executable = shutil.which("ronda") or sys.executable
    assert text.count(INSTALLED_RONDA) == 1
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / "ronda.service"
    copy.write_text(text.replace(INSTALLED_RONDA, executable))
    result = subprocess.run([analyze, "verify", str(copy)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    # Unknown keys or bad values are only warnings to verify: none is allowed here.
    assert str(copy) not in result.stderr and "ronda.service" not in result.stderr, result.stderr


def test_systemd_analyze_verify_accepts_the_unit(tmp_path: Path) -> None:
    verify(UNIT.read_text(), tmp_path)


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
        "CapabilityBoundingSet": "",
        "ProtectProc": "invisible",
        "SystemCallErrorNumber": "EPERM",
    }.items():
        assert one[key] == value, key
    # Anything that hides /dev/video*, /dev/dma_heap or /dev/vchiq would blind the camera (and
    # hide a Hailo's /dev/hailo0, or the accelerators' networks under /usr/share);
    # ProcSubset=pid hides /proc/cpuinfo and made int8 inference 120x slower; PrivateUsers= is
    # untested with the video group's devices on a Pi (an opt-in drop-in instead).
    for blinding in (
        "PrivateDevices",
        "DevicePolicy",
        "DeviceAllow",
        "InaccessiblePaths",
        "TemporaryFileSystem",
        "ProtectClock",
        "ProcSubset",
        "PrivateUsers",
    ):
        assert blinding not in service, blinding
    # The clip recorder lowers its own thread's priority: the filter must let setpriority by.
    assert service["SystemCallFilter"][-1] == "setpriority"
    assert unit["Install"]["WantedBy"] == ["multi-user.target"]


def test_the_unit_exposure_is_at_most_2_5() -> None:
    score = offline_exposure(UNIT)
    assert score <= MAX_EXPOSURE, f"systemd-analyze security: {score} > {MAX_EXPOSURE}"


def test_the_extra_hardening_drop_in_is_valid_and_scores_lower(tmp_path: Path) -> None:
    """systemd/ronda-extra-hardening.conf merged into the unit: accepted, and stricter."""
    drop_in = (REPO / "systemd" / "ronda-extra-hardening.conf").read_text()
    assert drop_in.count("[Service]") == 1
    extra = drop_in.split("[Service]", 1)[1]
    merged = UNIT.read_text().replace("\n[Install]", f"{extra}\n[Install]")
    copy = tmp_path / "ronda.service"
    copy.write_text(merged)
    assert offline_exposure(copy) < offline_exposure(UNIT)
    verify(merged, tmp_path / "verified")
    # The accelerators stay reachable: a Hailo's node, and the AI Camera's V4L2 sub-device
    # (video4linux) through which picamera2 hands the network to its driver.
    allowed = set(directives(merged)["Service"]["DeviceAllow"])
    assert {"/dev/hailo0 rw", "char-video4linux rw"} <= allowed

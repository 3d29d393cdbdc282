"""``ronda service install|uninstall``: every step printed by --dry-run, and a real install
into a scratch root (--root) where only useradd/chown/systemctl are skipped.

The real install creates the venv, installs a lock into it with pip's hash checking, then this
checkout without dependencies, built by the locked hatchling.  The lock it installs is the real
``requirements/runtime.txt`` cut down to hatchling and its own dependencies (every block as
exported, hashes included): the rest are the same PyPI wheels the suite runs on, and installing
them here would test the network, not the installer.
"""

from __future__ import annotations

import grp
import hashlib
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from camera.cli import main
from camera.config import load_config
from camera.service.install import Step, run_steps
from tests.accel_helpers import device_tree
from tests.cli_helpers import REPO
from tests.test_service_unit import UNIT

HEAVY = ("numpy", "cv2", "pydantic", "yaml", "paho", "ai_edge_litert")


def installed(root: Path) -> dict[str, Path]:
    return {
        "venv": root / "opt/ronda/venv",
        "ronda": root / "opt/ronda/venv/bin/ronda",
        "old models": root / "opt/ronda/venv/share/ronda/models",
        "config": root / "etc/ronda/ronda.yaml",
        "unit": root / "etc/systemd/system/ronda.service",
        "template": root / "etc/systemd/system/ronda@.service",
        "state": root / "var/lib/ronda",
        "command": root / "usr/local/bin/ronda",
    }


BUILD_BACKEND = ("hatchling", "packaging", "pathspec", "pluggy", "tomlkit", "trove-classifiers")


def build_backend_lock(folder: Path) -> Path:
    """The blocks of the real lock that pin hatchling and what it needs, as a lock file."""
    text = (REPO / "requirements" / "runtime.txt").read_text(encoding="utf-8")
    kept, keep = [], False
    for line in text.splitlines():
        if not line.startswith((" ", "#")):
            keep = line.split("==")[0] in BUILD_BACKEND
        if keep:
            kept.append(line)
    lock = folder / "build-backend.txt"
    lock.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return lock


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    code = main(["service", *args])
    return code, capsys.readouterr().out.splitlines()


def test_dry_run_prints_every_step_and_changes_nothing(tmp_path: Path, capsys) -> None:
    code, lines = run(capsys, "install", "--dry-run", "--root", str(tmp_path))
    assert code == 0 and list(tmp_path.iterdir()) == []
    assert all(line.split("] ", 1)[1].startswith("would ") for line in lines), lines
    expected = [
        "no AI Camera or Hailo accelerator here: no apt package to add",
        "--system --user-group --groups video",  # useradd (or usermod) for user ronda
        "-m venv --system-site-packages " + str(tmp_path / "opt/ronda/venv"),
        "-m pip install --require-hashes -r " + str(REPO / "requirements" / "runtime.txt"),
        "-m pip install --upgrade --no-deps --no-build-isolation " + str(REPO),
        "use the models inside the package",
        f"link {tmp_path / 'usr/local/bin/ronda'} -> /opt/ronda/venv/bin/ronda",
        f"write {tmp_path / 'etc/ronda/ronda.yaml'}",
        "chown root:ronda",
        f"install the unit {tmp_path / 'etc/systemd/system/ronda.service'} (from {UNIT})",
        f"install the template unit {tmp_path / 'etc/systemd/system/ronda@.service'}",
        "run systemctl daemon-reload",
        "run systemctl enable ronda",
        "run systemctl restart ronda",
    ]
    if "--append --groups video ronda" in lines[1]:  # the ronda user exists on this machine
        expected[1] = "usermod --append --groups video ronda"
    assert len(lines) == len(expected)
    for line, fragment in zip(lines, expected, strict=True):
        assert fragment in line, (fragment, line)

    code, lines = run(capsys, "uninstall", "--dry-run", "--purge", "--root", str(tmp_path))
    assert code == 0 and list(tmp_path.iterdir()) == []
    assert "systemctl disable --now ronda" in lines[0] and "userdel ronda" in lines[-1]


def test_an_ai_camera_or_a_hailo_gets_its_raspberry_pi_os_packages(tmp_path: Path, capsys) -> None:
    """The apt step: only for what the kernel shows here, only what is not installed yet, a
    system step (printed and skipped under --root), and --no-apt says what to run instead."""
    device_tree(tmp_path, imx500=True)
    (tmp_path / "lib/firmware/imx500_firmware.fpk").unlink()  # imx500-all not installed
    pci = tmp_path / "sys/bus/pci/devices/0001:01:00.0"
    pci.mkdir(parents=True)
    (pci / "vendor").write_text("0x1e60\n")  # a Hailo chip, its driver not installed
    _, lines = run(capsys, "install", "--dry-run", "--root", str(tmp_path))
    assert lines[0].endswith(
        "would run apt-get install -y --no-install-recommends imx500-all hailo-all "
        "(then reboot: the Hailo driver loads at boot)"
    )
    _, lines = run(capsys, "install", "--dry-run", "--no-apt", "--root", str(tmp_path))
    assert "--no-apt: install it yourself: sudo apt-get install" in lines[0]
    device_tree(tmp_path / "full", imx500=True, hailo=True)
    (tmp_path / "full/usr/lib/python3/dist-packages/hailo_platform").mkdir(parents=True)
    hailo = tmp_path / "full/dev/hailo0"
    hailo.chmod(0o660)
    os.chown(hailo, -1, grp.getgrnam("audio").gr_gid)  # a stricter udev rule than HailoRT's
    _, lines = run(capsys, "install", "--dry-run", "--root", str(tmp_path / "full"))
    assert lines[0].endswith(
        "found imx500 (imx500-all), hailo (hailo-all): its software is installed"
    )
    assert "--groups video,audio" in lines[1]  # the Hailo's group too


def test_dry_run_and_root_never_run_what_they_must_not() -> None:
    done: list[str] = []
    steps = [
        Step("write a file", lambda: done.append("file")),
        Step("run systemctl restart ronda", lambda: done.append("systemctl"), system=True),
    ]
    printed: list[str] = []
    run_steps(steps, dry_run=True, skip_system=False, out=printed.append)
    assert done == [] and printed == [
        "[1/2] would write a file",
        "[2/2] would run systemctl restart ronda",
    ]
    printed.clear()
    run_steps(steps, dry_run=False, skip_system=True, out=printed.append)
    assert done == ["file"] and printed[1] == "[2/2] skipped (--root): run systemctl restart ronda"


def test_the_installer_runs_on_a_bare_system_python(tmp_path: Path) -> None:
    """`sudo python3 -m camera.service install` comes before any dependency is installed."""
    probe = (
        "import sys; from camera.service.__main__ import main; "
        f"code = main(['install', '--dry-run', '--root', {str(tmp_path)!r}]); "
        f"print('LOADED', *sorted(m for m in {HEAVY!r} if m in sys.modules)); sys.exit(code)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "LOADED"
    assert "would run systemctl restart ronda" in result.stdout


@pytest.mark.slow
def test_install_into_a_root_prefix_then_uninstall_keeps_state_unless_purge(
    tmp_path: Path, capsys
) -> None:
    root = tmp_path / "root"
    paths = installed(root)
    lock = str(build_backend_lock(tmp_path))
    code, lines = run(capsys, "install", "--root", str(root), "--lock", lock)
    assert code == 0, lines
    skipped = [line for line in lines if "skipped (--root)" in line]
    assert len(skipped) == 5  # useradd/usermod, chown, daemon-reload, enable, restart
    # The venv sees the system's site-packages (python3-picamera2 comes from apt).
    assert "include-system-site-packages = true" in (paths["venv"] / "pyvenv.cfg").read_text()
    version = subprocess.run([paths["ronda"], "--version"], capture_output=True, text=True)
    assert version.stdout.strip() == "ronda 0.1.0"
    # The models came with the package, byte for byte as the manifest says; no second copy.
    (models,) = paths["venv"].glob("lib/python3*/site-packages/camera/bundled_models")
    manifest = json.loads((models / "manifest.json").read_text())
    for variant in manifest["variants"]:
        data = (models / variant["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == variant["sha256"]
    assert (models / "NOTICE").is_file()
    assert not paths["old models"].exists()
    assert paths["unit"].read_text() == UNIT.read_text()
    assert paths["command"].readlink() == Path("/opt/ronda/venv/bin/ronda")  # the live path
    assert stat.S_IMODE(paths["config"].stat().st_mode) == 0o640
    load_config(paths["config"])  # the shipped config is valid

    # Upgrade: the owner's config survives, the venv is reused, an older installer's copy of
    # the models goes.
    edited = yaml.safe_dump({"camera": {"name": "porch"}})
    paths["config"].write_text(edited)
    paths["old models"].mkdir(parents=True)
    (paths["old models"] / "manifest.json").write_text("{}")
    code, lines = run(capsys, "install", "--root", str(root), "--lock", lock)
    assert code == 0 and paths["config"].read_text() == edited
    assert not paths["old models"].exists()
    assert any("keep the existing configuration" in line for line in lines)
    assert any("reuse the virtual environment" in line for line in lines)
    # The upgrade brings the template of more cameras; the single camera's unit is unchanged.
    assert paths["unit"].read_text() == UNIT.read_text()
    assert "--config /etc/ronda/%i.yaml" in paths["template"].read_text()

    paths["state"].mkdir(parents=True)
    (paths["state"] / "ronda.sqlite3").write_bytes(b"events")
    code, lines = run(capsys, "uninstall", "--root", str(root))
    assert code == 0
    assert not paths["unit"].exists() and not (root / "opt/ronda").exists()
    assert not paths["template"].exists()
    assert not paths["command"].is_symlink()
    assert paths["config"].read_text() == edited and (paths["state"] / "ronda.sqlite3").exists()

    code, lines = run(capsys, "uninstall", "--purge", "--root", str(root))
    assert code == 0
    assert not (root / "etc/ronda").exists() and not paths["state"].exists()
    assert "skipped (--root): run userdel ronda" in lines[-1]


def test_without_root_privileges_nothing_is_attempted(monkeypatch, capsys) -> None:
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    code = main(["service", "install"])
    captured = capsys.readouterr()
    assert code == 1 and captured.out == ""
    assert "run it with sudo" in captured.err

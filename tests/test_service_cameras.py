"""Several cameras on one machine: ``ronda@.service`` made from ``ronda.service``, the
installer's add/list/remove, ``--camera`` for doctor and status, and two cameras run the way
the template unit runs them (own config, own ``$STATE_DIRECTORY``): stopping one leaves the
other alone.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from camera.cli import main
from camera.service.layout import Layout, service_state_dir
from camera.service.template import TemplateError, derive
from tests.broker import Mosquitto, Subscriber
from tests.cli_helpers import REPO
from tests.conftest import CANARY_PASSWORD
from tests.test_service_unit import INSTALLED_RONDA, UNIT
from tests.web_helpers import wait_for, write_slice

CAMERA = """\
camera:
  name: {name}
source:
  kind: file
  uri: {clip}
  loop: true
  fps: 5
mqtt:
  host: 127.0.0.1
  port: {port}
  username: camera
  password: {secret}
  keepalive_s: 5
  stats_interval_s: 1
web:
  enabled: false
"""


def template() -> str:
    return derive(UNIT.read_text())


def test_the_template_is_the_single_unit_with_its_camera_in_three_lines(tmp_path: Path) -> None:
    single, text = UNIT.read_text().splitlines(), template().splitlines()
    changed = [line for line in text if "%i" in line]
    assert changed == [
        "Description=Ronda person/pet security camera %i",
        f"ExecStart={INSTALLED_RONDA} run --config /etc/ronda/%i.yaml",
        "StateDirectory=ronda-%i",
    ]
    assert [line for line in text if line not in changed and not line.startswith("#")] == [
        line
        for line in single
        if not re.match(r"(Description|ExecStart|StateDirectory)=", line)
        and not line.startswith("#")
    ]
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (apt-get install systemd); CI installs it")
    instance = tmp_path / "ronda@porch.service"  # verify wants an instance of the template
    instance.write_text(
        template().replace(INSTALLED_RONDA, shutil.which("ronda") or sys.executable)
    )
    result = subprocess.run([analyze, "verify", str(instance)], capture_output=True, text=True)
    assert result.returncode == 0 and "ronda@" not in result.stderr, result.stderr
    with pytest.raises(TemplateError, match="StateDirectory"):
        derive(UNIT.read_text().replace("StateDirectory=ronda\n", ""))


def test_add_list_remove_cameras_under_a_root(tmp_path: Path, capsys) -> None:
    root = tmp_path
    assert main(["service", "add", "garden", "--root", str(root)]) == 1
    assert "run `ronda service install` first" in capsys.readouterr().err
    ronda = root / INSTALLED_RONDA.lstrip("/")
    ronda.parent.mkdir(parents=True)
    ronda.write_text("#!/bin/sh\n")
    single = root / "etc/ronda/ronda.yaml"
    single.parent.mkdir(parents=True)
    single.write_text(
        "camera:\n  name: porch\nmqtt:\n  host: broker.lan  # the home's\n  client_id: porch\n"
        "  username: cams\nweb:\n  port: 8080\n"
    )
    assert main(["service", "add", "garden", "--root", str(root)]) == 0
    out = capsys.readouterr().out
    assert "skipped (--root): run systemctl enable --now ronda@garden" in out
    assert (root / "etc/systemd/system/ronda@.service").read_text() == template()
    garden = (root / "etc/ronda/garden.yaml").read_text()
    assert "name: garden" in garden and "port: 8081" in garden
    assert "host: broker.lan" in garden and "username: cams" in garden
    assert "client_id" not in garden  # its own session, not the first camera's
    assert main(["service", "add", "garage", "--root", str(root), "--uri", "/dev/video0"]) == 0
    assert "port: 8082" in (root / "etc/ronda/garage.yaml").read_text()
    capsys.readouterr()
    from camera.config import load_config

    config, _ = load_config(root / "etc/ronda/garage.yaml")  # what add writes is valid
    assert config.camera.name == "garage" and config.source.uri == "/dev/video0"

    assert main(["service", "list", "--root", str(root)]) == 0
    listed = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert [row[:2] for row in listed] == [
        ["ronda", "ronda.service"],
        ["garage", "ronda@garage.service"],
        ["garden", "ronda@garden.service"],
    ]
    assert listed[2][3] == "/var/lib/ronda-garden"

    # The installed command has no checkout beside it: the installed template serves.
    from camera.service.install import Installer

    installed = Installer(source=tmp_path / "no-checkout", root=root)
    steps = installed.add_camera_steps("attic", "picamera2", None)
    assert "use the installed template unit" in steps[0].description

    for taken in ("home", "ronda", "front door"):
        assert main(["service", "add", taken, "--root", str(root)]) == 1
        assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert main(["service", "remove", "garden", "--root", str(root)]) == 0
    assert (root / "etc/ronda/garden.yaml").exists()  # kept: its events may matter
    assert main(["service", "remove", "garden", "--purge", "--root", str(root)]) == 0
    assert not (root / "etc/ronda/garden.yaml").exists() and single.exists()


def test_doctor_and_status_find_a_cameras_files_by_its_name(monkeypatch, capsys) -> None:
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    layout = Layout()
    assert layout.camera_config("garden") == Path("/etc/ronda/garden.yaml")
    given = Path("/somewhere")
    assert service_state_dir(given, None, Path("/etc/ronda/garden.yaml")) == Path(
        "/var/lib/ronda-garden"
    )
    assert service_state_dir(given, None, Path("/etc/ronda/ronda.yaml")) == Path("/var/lib/ronda")
    assert service_state_dir(given, None, Path("/home/me/garden.yaml")) == given
    assert main(["status", "--camera", "../etc"]) == 2
    assert capsys.readouterr().err.startswith("ronda status: --camera: camera name")


def test_two_cameras_run_as_the_template_runs_them(broker: Mosquitto, tmp_path: Path) -> None:
    clip = write_slice(tmp_path / "visitor.mp4", 40, 120)
    status = Subscriber(broker.host, broker.port, topic="ronda/+/+").start()
    processes: dict[str, subprocess.Popen[bytes]] = {}
    (exec_start,) = [line for line in template().splitlines() if line.startswith("ExecStart=")]
    try:
        for name in ("porch", "garden"):
            config = tmp_path / f"etc/ronda/{name}.yaml"
            config.parent.mkdir(parents=True, exist_ok=True)
            config.write_text(
                CAMERA.format(name=name, clip=clip, port=broker.port, secret=CANARY_PASSWORD)
            )
            # ExecStart with %i and the paths under this test's root, as systemd would expand
            # it; $STATE_DIRECTORY as StateDirectory=ronda-%i makes it.
            argv = shlex.split(exec_start.removeprefix("ExecStart=").replace("%i", name))
            argv = [sys.executable, "-m", "camera", *argv[1:]]
            argv = [arg.replace("/etc/ronda/", f"{tmp_path}/etc/ronda/") for arg in argv]
            state = tmp_path / f"var/lib/ronda-{name}"
            state.mkdir(parents=True)
            env = {**os.environ, "STATE_DIRECTORY": str(state), "PYTHONUNBUFFERED": "1"}
            log = (tmp_path / f"{name}.log").open("wb")
            processes[name] = subprocess.Popen(
                argv, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        for name in processes:
            wait_for(lambda n=name: status.on(f"ronda/{n}/stats"), 90, f"{name} stats")
            assert (tmp_path / f"var/lib/ronda-{name}/ronda.sqlite3").exists()
        processes["garden"].send_signal(signal.SIGTERM)
        assert processes["garden"].wait(60) in (0, 3)
        wait_for(
            lambda: status.on("ronda/garden/availability")[-1].payload == b"offline", 10, "gone"
        )
        before = len(status.on("ronda/porch/stats"))
        wait_for(lambda: len(status.on("ronda/porch/stats")) >= before + 2, 10, "porch goes on")
        assert processes["porch"].poll() is None
        assert status.on("ronda/porch/availability")[-1].payload == b"online"
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.terminate()
                process.wait(60)
        status.stop()
    for name in processes:
        assert "Traceback" not in (tmp_path / f"{name}.log").read_text()

"""``ronda web`` and ``ronda web passwd`` as an owner runs them."""

from __future__ import annotations

import http.client
import signal
import subprocess
import sys
from pathlib import Path

from tests.broker import free_port
from tests.cli_helpers import REPO, write_config
from tests.web_helpers import wait_for


def _passwd(config: Path, password: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "camera", "web", "passwd", "--stdin", "--config", str(config)],
        input=password + "\n",
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )


def test_passwd_refuses_a_short_password_in_one_line(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    done = _passwd(config, "short")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "ronda web passwd: the password needs at least 8 characters; nothing changed"
    ]
    assert "short" not in done.stdout
    assert not (tmp_path / "state" / "web-password").exists()


def test_ronda_web_browses_the_state_directory_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    config = write_config(tmp_path, web={"host": "127.0.0.1", "port": port})
    assert _passwd(config, "long enough password").returncode == 0
    process = subprocess.Popen(
        [sys.executable, "-m", "camera", "web", "--config", str(config)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )

    def answers() -> bool:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/login")
            return connection.getresponse().status == 200
        except OSError:
            return False

    try:
        wait_for(answers, 60, "ronda web to answer")
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output
    assert f"browsing {tmp_path / 'state'}" in output and "Traceback" not in output

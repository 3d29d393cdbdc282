"""Run the real ``ronda`` command line in a subprocess, with a config written by the test."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import CANARY_PASSWORD

REPO = Path(__file__).resolve().parent.parent


def write_config(tmp_path: Path, **sections: dict) -> Path:
    """A config file with the state in ``tmp_path`` and the given sections merged in."""
    data: dict = {
        "store": {"path": str(tmp_path / "state")},
        "camera": {"name": "test"},
        "mqtt": {"password": CANARY_PASSWORD},
    }
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    path = tmp_path / "ronda.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def ronda(*args: str | Path, timeout: float = 600, env: dict | None = None):
    """``python -m camera ARGS``; returns the CompletedProcess (text mode)."""
    return subprocess.run(
        [sys.executable, "-m", "camera", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env=env,
    )

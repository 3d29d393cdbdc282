"""What a person at a terminal sees: Ronda's own lines, a clean progress bar, no third-party
banners and no per-frame housekeeping unless asked for."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

from tests.conftest import footage

CLIP = "clips/intel_worker-zone-detection_preview.gif"  # 71 frames, one person event
BANNER = "XNNPACK delegate"


def replay(tmp_path: Path, *extra: str, tty: bool = False) -> tuple[int, str]:
    """``ronda replay`` of a short clip; stderr as a pipe, or as a terminal (a pty)."""
    argv = [sys.executable, "-m", "camera.cli", "replay", str(footage(CLIP)), "--no-mqtt"]
    argv += ["--state-dir", str(tmp_path), *extra]
    if not tty:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        return result.returncode, result.stderr
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    with subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=terminal
    ) as process:
        os.close(terminal)
        chunks = []
        while True:
            try:
                data = os.read(controller, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        code = process.wait(timeout=120)
    os.close(controller)
    return code, b"".join(chunks).decode("utf-8", "replace")


def on_screen(line: str) -> str:
    """What a terminal shows for one line: each carriage return overwrites from column 0."""
    shown: list[str] = []
    for segment in line.split("\r"):
        shown[: len(segment)] = segment
    return "".join(shown).rstrip()


def test_no_runtime_banner_and_no_per_frame_lines(tmp_path: Path) -> None:
    code, stderr = replay(tmp_path)
    assert code == 0, stderr
    assert BANNER not in stderr
    assert "realigned" not in stderr and "light change" not in stderr
    assert "loaded picodet" in stderr  # Ronda's own INFO lines still there


def test_verbose_shows_the_runtime_banner_as_a_log_line(tmp_path: Path) -> None:
    code, stderr = replay(tmp_path, "--verbose")
    assert code == 0, stderr
    banner = [line for line in stderr.splitlines() if BANNER in line]
    assert banner and all(line.startswith("DEBUG camera.detect.runtime") for line in banner)


def test_progress_bar_on_a_terminal_keeps_log_lines_whole(tmp_path: Path) -> None:
    code, output = replay(tmp_path, tty=True)
    assert code == 0, output
    raw = output.replace("\r\n", "\n").split("\n")
    assert any("%|" in line for line in raw), output  # tqdm drew its bar
    lines = [on_screen(line) for line in raw]
    events = [line for line in lines if "INFO camera.pipeline.loop: event" in line]
    assert len(events) >= 2, output  # log lines arrived while the bar was on screen
    for line in lines:
        # A log line never shares a terminal line with the bar: the bar is redrawn below it.
        assert not ("%|" in line and " INFO " in line), line

"""Run ``vcgencmd`` (or the fake a test points at) with a short timeout.

The governor runs inside the frame loop, so a wedged firmware mailbox must cost at most
``timeout_s``, never a hung camera.  The command runs in its own process group and the whole
group is killed at the timeout: ``subprocess.run`` alone kills only the child, then waits for
its output pipes, which a grandchild still holds open (a wrapper script that forked) for as long
as it likes.  Output is read as bytes and decoded leniently: a binary answer is a bad reading,
not a crash.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess

from camera.governor.sensors.health import Health

_MAX_OUTPUT = 4096


class Vcgencmd:
    """A configured ``vcgencmd`` command line; ``query("measure_temp")`` returns its stdout."""

    def __init__(self, command: str, timeout_s: float) -> None:
        try:
            self.argv = shlex.split(command)
        except ValueError:  # an unbalanced quote; the config refuses it, a direct caller may not
            self.argv = []
        self.timeout_s = timeout_s

    def query(self, argument: str, health: Health) -> str | None:
        """Stdout of ``vcgencmd <argument>``, or None after telling ``health`` why not."""
        if not self.argv:
            health.absent("no vcgencmd command configured")
            return None
        try:
            process = subprocess.Popen(
                [*self.argv, argument],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except FileNotFoundError:
            health.absent(f"{self.argv[0]} not found")
            return None
        except OSError as exc:
            health.failed(f"{self.argv[0]} {argument}: {exc.strerror or exc}")
            return None
        try:
            out, err = process.communicate(timeout=self.timeout_s)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            health.failed(f"{self.argv[0]} {argument} timed out after {self.timeout_s:g} s")
            return None
        stdout = out[:_MAX_OUTPUT].decode("utf-8", "replace")
        if process.returncode != 0:
            detail = (err[:_MAX_OUTPUT].decode("utf-8", "replace") or stdout).strip()[:200]
            health.failed(f"{self.argv[0]} {argument} exited {process.returncode}: {detail}")
            return None
        return stdout


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill the command and everything it started; close the pipes without waiting for EOF."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except OSError:
        process.kill()
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()
    # Unkillable (stuck in the kernel): leave it behind rather than block the frame loop.
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=1.0)

"""Run ``vcgencmd`` (or the fake a test points at) with a short timeout.

The governor runs inside the frame loop, so a wedged firmware mailbox must cost at most
``timeout_s``, never a hung camera.
"""

from __future__ import annotations

import shlex
import subprocess

from camera.governor.sensors.health import Health


class Vcgencmd:
    """A configured ``vcgencmd`` command line; ``query("measure_temp")`` returns its stdout."""

    def __init__(self, command: str, timeout_s: float) -> None:
        self.argv = shlex.split(command)
        self.timeout_s = timeout_s

    def query(self, argument: str, health: Health) -> str | None:
        """Stdout of ``vcgencmd <argument>``, or None after telling ``health`` why not."""
        if not self.argv:
            health.absent("no vcgencmd command configured")
            return None
        try:
            done = subprocess.run(
                [*self.argv, argument],
                capture_output=True,
                text=True,
                timeout=self.timeout_s,
                check=False,
            )
        except FileNotFoundError:
            health.absent(f"{self.argv[0]} not found")
            return None
        except subprocess.TimeoutExpired:
            health.failed(f"{self.argv[0]} {argument} timed out after {self.timeout_s:g} s")
            return None
        except OSError as exc:
            health.failed(f"{self.argv[0]} {argument}: {exc}")
            return None
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip()[:200]
            health.failed(f"{self.argv[0]} {argument} exited {done.returncode}: {detail}")
            return None
        return done.stdout

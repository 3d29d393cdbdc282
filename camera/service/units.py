"""What systemd says of a unit (``systemctl show``): ``ronda status`` and ``ronda service
list`` ask it, and say why when it cannot be asked."""

from __future__ import annotations

import shutil
import subprocess

SYSTEMD_PROPERTIES = ("LoadState", "ActiveState", "SubState", "StatusText", "NRestarts")


def unit_properties(unit: str) -> dict[str, str] | str:
    """``systemctl show`` of ``unit``, or why it could not be asked."""
    if shutil.which("systemctl") is None:
        return "unknown: no systemctl here"
    command = ["systemctl", "show", unit, *(f"--property={p}" for p in SYSTEMD_PROPERTIES)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=5, check=True)
    except (subprocess.SubprocessError, OSError) as error:
        reason = getattr(error, "stderr", "") or str(error)
        return f"unknown: systemctl show failed ({' '.join(reason.split())})"
    return dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)


def unit_state(unit: str) -> str:
    """``active (running)``, ``inactive (dead)``, ``not installed``: ``ronda service list``."""
    values = unit_properties(unit)
    if isinstance(values, str):
        return values
    if values.get("LoadState") == "not-found":
        return "not installed"
    return f"{values.get('ActiveState', '?')} ({values.get('SubState', '?')})"

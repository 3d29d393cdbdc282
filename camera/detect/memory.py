"""How much memory this device gives the camera: the smaller of the RAM and the cgroup's limit.

``auto`` uses it to leave the float32 variants out on a small board (``camera.detect.selection``):
on a Pi Zero 2 W (512 MB) or under a ``MemoryMax=`` below 1 GB, float32 416 costs about 50 MB more
resident memory than int8 416 for at most a point of person recall on the footage, and the
camera must also leave room for the web page, clips and the system.
"""

from __future__ import annotations

from pathlib import Path

SMALL_MEMORY_BYTES = 1 << 30
"""Below this (RAM or cgroup limit), ``auto`` runs int8 variants only."""
CGROUP_ROOT = Path("/sys/fs/cgroup")


def device_memory_bytes(
    meminfo: Path = Path("/proc/meminfo"), cgroup: Path = Path("/proc/self/cgroup")
) -> int | None:
    """The RAM (``MemTotal``) or this process's cgroup memory limit, whichever is smaller;
    None when neither can be read."""
    limits = [limit for limit in (_mem_total(meminfo), _cgroup_limit(cgroup)) if limit]
    return min(limits) if limits else None


def _mem_total(meminfo: Path) -> int | None:
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_limit(cgroup: Path) -> int | None:
    """``memory.max`` (v2) or ``memory.limit_in_bytes`` (v1) of this process's own cgroup."""
    try:
        lines = cgroup.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        relative = path.lstrip("/")
        if "memory" in controllers.split(","):
            candidate = CGROUP_ROOT / "memory" / relative / "memory.limit_in_bytes"
        elif controllers == "":
            candidate = CGROUP_ROOT / relative / "memory.max"
        else:
            continue
        try:
            text = candidate.read_text().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 1 << 60:  # v1 writes "unlimited" as a huge number
            return int(text)
    return None

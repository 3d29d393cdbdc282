"""The disk the clips may use: retention by age, a total size bound, and free space to leave.

Clips are the largest thing Ronda writes, and the SD card they go to also holds the event store
and the alert outbox.  So clips give way first: the oldest go when they are older than
``retention_days`` or the total is over ``max_gigabytes`` (the newest is always kept, so a bound
smaller than one clip still leaves the last one), and no clip is written while less than
``min_free_megabytes`` is free.  Every deletion is counted in the store and logged.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from camera.record.config import ClipsConfig
from camera.store.clips import DONE, ClipStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Pruned:
    by_age: int
    by_size: int
    freed_bytes: int

    @property
    def count(self) -> int:
        return self.by_age + self.by_size


def free_bytes(path: Path) -> int:
    """Bytes an unprivileged writer may still use on ``path``'s file system."""
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize


class ClipBudget:
    """Applies ``clips.retention_days``, ``max_gigabytes`` and ``min_free_megabytes``."""

    def __init__(self, config: ClipsConfig, store: ClipStore) -> None:
        self.config = config
        self.store = store
        self.max_bytes = int(config.max_gigabytes * 1e9)
        self.reserve_bytes = int(config.min_free_megabytes * 1e6)

    def room(self, path: Path) -> bool:
        """True while writing a clip leaves the reserved free space."""
        try:
            return free_bytes(path) >= self.reserve_bytes
        except OSError:
            return False

    def prune(self, now: float | None = None) -> Pruned:
        """Delete the oldest finished clips beyond the bounds (see the module docstring)."""
        now = time.time() if now is None else now
        clips = self.store.all(DONE)
        cutoff = now - self.config.retention_days * 86400
        aged = [c for c in clips[:-1] if c.created_at < cutoff]
        if clips and clips[-1].created_at < cutoff:
            aged.append(clips[-1])
        kept = [c for c in clips if c not in aged]
        total = sum(c.size_bytes or 0 for c in kept)
        oversize = []
        for clip in kept[:-1]:
            if total <= self.max_bytes:
                break
            oversize.append(clip)
            total -= clip.size_bytes or 0
        doomed = aged + oversize
        if not doomed:
            return Pruned(0, 0, 0)
        self.store.forget([c.file for c in doomed], counted=True)
        freed = 0
        for clip in doomed:
            freed += clip.size_bytes or 0
            self.store.path(clip.file).unlink(missing_ok=True)
        result = Pruned(len(aged), len(oversize), freed)
        log.info(
            "clips: deleted %d oldest clip(s), %.1f MB (%d older than %g days, %d over "
            "clips.max_gigabytes %g)",
            result.count,
            freed / 1e6,
            result.by_age,
            self.config.retention_days,
            result.by_size,
            self.config.max_gigabytes,
        )
        return result

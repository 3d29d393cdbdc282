"""After a crash: make the store point only at complete, playable clip files.

Run once when the recorder starts, before anything is recorded.  A clip still marked
``recording`` was cut short by a crash, a ``kill -9`` or a power cut: its ``.part.ts`` is closed
into an MP4 of what it holds (a shorter clip), or the clip is forgotten when nothing in it can be
played.  Half-written ``.mp4.tmp`` files are deleted, a finished clip whose file is gone is
forgotten, and files in ``clips/`` that no clip row names are deleted.
"""

from __future__ import annotations

import logging
from pathlib import Path

from camera.record.writer import PART_SUFFIX, TMP_SUFFIX, finalize, part_path
from camera.store.clips import DONE, RECORDING, ClipStore

log = logging.getLogger(__name__)


def recover(store: ClipStore, clips_dir: Path) -> tuple[int, int]:
    """Salvage interrupted clips; returns (salvaged, dropped)."""
    salvaged = dropped = 0
    for clip in store.all(RECORDING):
        final = store.path(clip.file)
        closed = None
        if part_path(final).exists():
            try:
                closed = finalize(final)
            except OSError as error:
                log.warning("clips: cannot salvage %s: %s", clip.file, error)
        if closed is None:
            store.forget([clip.file])
            part_path(final).unlink(missing_ok=True)
            dropped += 1
            continue
        store.finished(clip.file, closed.duration_s, closed.size_bytes)
        part_path(final).unlink(missing_ok=True)
        salvaged += 1
        log.warning(
            "clips: %s was interrupted (crash or power cut); kept its first %.1f s",
            clip.file,
            closed.duration_s,
        )
    missing = [c.file for c in store.all(DONE) if not store.path(c.file).is_file()]
    store.forget(missing)
    dropped += len(missing)
    known = {store.path(c.file) for c in store.all()}
    if clips_dir.is_dir():
        for path in clips_dir.iterdir():
            leftover = path.name.endswith((PART_SUFFIX, TMP_SUFFIX)) or path not in known
            if leftover and path.is_file():
                path.unlink(missing_ok=True)
    if salvaged or dropped:
        log.info("clips: after the last stop, %d clip(s) salvaged, %d dropped", salvaged, dropped)
    return salvaged, dropped

"""A still picture of the scene in the state directory, for the masks editor of ``ronda web``.

``ronda web`` runs without a camera, so it has no live frame to draw masks on; the running
camera leaves one full picture (``still.jpg``, at most 1280 px wide) every ``STILL_INTERVAL_S``
and the editor shows it with its age.  Ten minutes: a masks editor needs the scene's layout, not
this second's, and an SD card should not take a 100 KB write every few seconds.  The JPEG is
encoded and written on a short-lived thread, so the frame loop only pays for a copy.  Privacy
mode removes the file and writes none while it lasts.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from pathlib import Path

import cv2
import numpy as np

from camera.pipeline.loop import FrameOutcome

log = logging.getLogger(__name__)

STILL_NAME = "still.jpg"
STILL_INTERVAL_S = 600.0
STILL_WIDTH = 1280


class StillWriter:
    """A frame hook: see the module docstring."""

    def __init__(self, state_dir: Path, interval_s: float = STILL_INTERVAL_S) -> None:
        self.path = state_dir / STILL_NAME
        self.interval_s = interval_s
        self._next = 0.0
        self._busy = threading.Lock()

    def __call__(self, outcome: FrameOutcome) -> None:
        if outcome.privacy:
            if self._next:
                self._next = 0.0
                with contextlib.suppress(OSError):
                    self.path.unlink(missing_ok=True)
            return
        now = time.monotonic()
        if not outcome.processed or now < self._next or self._busy.locked():
            return
        self._next = now + self.interval_s
        image = outcome.frame.image.copy()  # the source may reuse its buffer
        threading.Thread(target=self._write, args=(image,), name="ronda-still", daemon=True).start()

    def _write(self, image: np.ndarray) -> None:
        with self._busy:
            height, width = image.shape[:2]
            if width > STILL_WIDTH:
                size = (STILL_WIDTH, round(height * STILL_WIDTH / width))
                image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
            ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
            temporary = self.path.with_suffix(".tmp")
            try:
                if ok:
                    temporary.write_bytes(data.tobytes())
                    os.replace(temporary, self.path)
            except OSError as error:
                log.debug("cannot write %s: %s", self.path, error)
                with contextlib.suppress(OSError):
                    temporary.unlink(missing_ok=True)


def still_age(state_dir: Path) -> float | None:
    """Seconds since the still was written, or None when there is none."""
    try:
        return max(0.0, time.time() - (state_dir / STILL_NAME).stat().st_mtime)
    except OSError:
        return None

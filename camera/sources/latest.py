"""Hand the pipeline the newest frame, never a queue of old ones.

A live camera does not wait for us.  When the pipeline is slower than the camera, a reader that
is only asked for the next frame when the loop is ready gets the *oldest* buffered one (OpenCV's
FFmpeg backend ignores ``CAP_PROP_BUFFERSIZE`` and keeps decoding into its own queue), so every
alert comes later than the last, without bound.  Here a thread reads frames as fast as the source
delivers them into a one-frame slot; the loop takes whatever is in the slot, and a frame that was
replaced before the loop got to it is dropped and counted.  The age of the frame the loop gets is
then at most one frame period plus the time of the frame being processed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator

from camera.types import Frame

log = logging.getLogger(__name__)

JOIN_TIMEOUT_S = 2.0


class LatestFrames:
    """Runs ``produce()`` (a blocking frame iterator) in a daemon thread and yields its newest
    frame each time the consumer asks.

    ``dropped`` counts frames replaced in the slot before anyone took them.  An exception in the
    producer ends the consumer's iteration by raising the same exception there, so a source's
    ``SourceError`` still reaches the caller.  Closing the consumer's generator, or ``stop``,
    ends the producer (it checks ``stop`` between frames).
    """

    def __init__(
        self, produce: Callable[[], Iterator[Frame]], name: str, stop: threading.Event
    ) -> None:
        self._produce = produce
        self._name = name
        self._stop = stop
        self._ready = threading.Condition()
        self._slot: Frame | None = None
        self._finished = False
        self._error: BaseException | None = None
        self.dropped = 0
        self.delivered = 0

    def frames(self) -> Iterator[Frame]:
        thread = threading.Thread(target=self._run, name=f"reader {self._name}", daemon=True)
        thread.start()
        try:
            while True:
                with self._ready:
                    self._ready.wait_for(lambda: self._slot is not None or self._finished)
                    frame, self._slot = self._slot, None
                    if frame is None:  # finished and nothing left
                        if self._error is not None:
                            raise self._error
                        return
                self.delivered += 1
                yield frame
        finally:
            self._stop.set()
            with self._ready:
                self._ready.notify_all()
            thread.join(JOIN_TIMEOUT_S)

    def _run(self) -> None:
        try:
            for frame in self._produce():
                with self._ready:
                    if self._slot is not None:
                        self.dropped += 1
                        log.debug("%s: dropped stale frame %d", self._name, self._slot.index)
                    self._slot = frame
                    self._ready.notify()
                if self._stop.is_set():
                    break
        except BaseException as error:  # handed to the consumer, which re-raises it
            self._error = error
        finally:
            with self._ready:
                self._finished = True
                self._ready.notify_all()

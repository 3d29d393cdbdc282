"""The fake ``picamera2.outputs``: the ``Output`` base class encoders write to."""

from __future__ import annotations


class Output:
    """Like picamera2's: encoders call ``start``, ``outputframe`` per packet, ``stop``."""

    def __init__(self, pts=None) -> None:
        self.recording = False
        self.needs_pacing = False
        self.needs_add_stream = False

    def start(self) -> None:
        self.recording = True

    def stop(self) -> None:
        self.recording = False

    def outputframe(self, frame, keyframe=True, timestamp=None, packet=None, audio=False) -> None:
        pass

    def _add_stream(self, encoder_stream, *args, **kwargs) -> None:
        pass

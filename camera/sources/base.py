"""The frame-source protocol shared by replay, OpenCV and picamera2 sources."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol, runtime_checkable

from camera.types import Detection, Frame


class SourceError(Exception):
    """A source that cannot be opened or read; the message is one user-facing line."""


@runtime_checkable
class FrameSource(Protocol):
    """Yields frames until exhausted (replay) or closed (live).

    ``live`` sources stamp frames with wall-clock time and never end on their own; replay sources
    stamp them with the recording's timeline so that a replay is deterministic.
    """

    name: str
    live: bool

    def frames(self) -> Iterator[Frame]:
        """Iterate over frames; a live source retries internally instead of ending."""
        ...

    def set_fps(self, fps: float | None) -> None:
        """Ask the source for a lower capture rate, where the hardware supports it.

        Sources without a hardware rate control ignore it: the pipeline drops frames by timestamp.
        """
        ...

    def close(self) -> None:
        """Release the device or file; ``frames()`` ends soon after."""
        ...


@runtime_checkable
class LiveTiming(Protocol):
    """A source whose frames happen in real time (a camera, a realtime replay).

    ``full_fps`` is the rate it delivers at full speed (``None`` while unknown): the governor's
    load reading is relative to it.  ``stale_dropped`` counts frames it dropped because the
    pipeline was still busy with an earlier one (see ``camera.sources.latest``).
    """

    @property
    def full_fps(self) -> float | None: ...

    @property
    def stale_dropped(self) -> int: ...


class CameraNetwork(Protocol):
    """A detector network that runs on the camera's own sensor (the AI Camera's IMX500), as
    the picamera2 source drives it: the camera is opened by its number, the first frame may
    wait for the network's firmware to upload, and every completed request's metadata carries
    the network's output, which ``detections`` turns into boxes in main-stream pixels."""

    @property
    def camera_num(self) -> int: ...

    @property
    def first_frame_timeout_s(self) -> float: ...

    def waiting(self, seconds: float) -> None:
        """No frame yet, ``seconds`` after the camera started: say how the upload goes."""
        ...

    def detections(self, metadata: Mapping[str, Any], camera: Any) -> tuple[Detection, ...]:
        """What the network found in the frame of ``metadata`` (the last result when this frame
        carries none: the network runs at its own rate)."""
        ...

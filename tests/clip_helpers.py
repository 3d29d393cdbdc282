"""Reading clips back the way a player would: PyAV decodes every frame of the MP4."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from camera.events import EventUpdate


@dataclass
class Decoded:
    times: list[float]
    """Presentation time of every frame shown (the edit list applied), seconds from 0."""
    size: tuple[int, int]
    codec: str
    duration_s: float

    def frame_at(self, path: Path, time: float) -> np.ndarray:
        """The BGR frame shown at ``time``."""
        with av.open(str(path)) as container:
            best = None
            for frame in container.decode(video=0):
                if frame.time is not None and frame.time <= time + 1e-6:
                    best = frame.to_ndarray(format="bgr24")
                elif best is not None:
                    break
            assert best is not None, f"no frame at {time} s in {path}"
            return best


def decode(path: Path) -> Decoded:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        times = [float(f.time) for f in container.decode(stream) if f.time is not None]
        duration = (container.duration or 0) / 1e6
        return Decoded(times, (stream.width, stream.height), stream.codec_context.name, duration)


def moov_before_mdat(path: Path) -> bool:
    """The MP4 index is at the front: a browser can play it while it downloads."""
    data = path.read_bytes()
    position = 0
    boxes = []
    while position + 8 <= len(data):
        size = int.from_bytes(data[position : position + 4], "big")
        boxes.append(data[position + 4 : position + 8].decode("latin-1"))
        if size < 8:
            break
        position += size
    return "moov" in boxes and "mdat" in boxes and boxes.index("moov") < boxes.index("mdat")


def event_update(
    kind: str, event: str, start: float, now: float, label: str = "person", gone_s: float = 4.0
) -> EventUpdate:
    """An update as the tracker would publish it (``end`` last saw the object ``gone_s``
    before)."""
    return EventUpdate(
        id=event, camera="c", type=kind, label=label, subclass=label, score=0.9,
        box=[0, 0, 1, 1], frame_time=now, start_time=start,
        end_time=now - gone_s if kind == "end" else None, thumbnail_topic=None,
        has_thumbnail=False, model_precision="int8", motion_only=False, source="s", sequence=1,
        camera_name="c", start_local="2024-01-05T21:04:03+01:00",
        end_local="2024-01-05T21:04:09+01:00" if kind == "end" else None,
        label_idle_s=None, previous_label=None,
    )  # fmt: skip

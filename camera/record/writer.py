"""Clip files: written as MPEG-TS while they grow, closed into an MP4 with the index in front.

Why two steps.  A browser or phone plays an MP4 at once only when its index (``moov``) is at the
front, and that index is known only at the end.  While a clip is recorded it goes to
``<name>.part.ts``: MPEG-TS has no index, every 188-byte packet stands alone, so a ``kill -9`` or
a power cut leaves a file that is readable up to its last complete packet.  Closing remuxes it
(no re-encoding: packets are copied) into ``<name>.mp4.tmp`` with ``faststart``, fsyncs it and
renames it to ``<name>.mp4``; the caller deletes the ``.part.ts`` once the store has the MP4.
The same closing step salvages a ``.part.ts`` left by a crash, so the store only ever points at
complete MP4 files.

Timing.  A clip's time 0 is its planned start (``clips.pre_s`` before the event), which rarely
falls on a keyframe: packets from the keyframe before it are kept (a decoder needs them) with
negative times, and the MP4 gets an edit list that starts playback at 0, the way
``ffmpeg -ss … -c copy`` cuts.  MPEG-TS timestamps cannot be negative, so the partial file
carries every time shifted by ``TS_OFFSET_S``; closing shifts them back.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from camera.types import EncodedPacket

log = logging.getLogger(__name__)

TIME_BASE = Fraction(1, 90_000)
TS_OFFSET_S = 100.0
"""Added to every time in the partial file; larger than any pre-roll plus a keyframe interval."""
PART_SUFFIX = ".part.ts"
TMP_SUFFIX = ".mp4.tmp"


def part_path(final: Path) -> Path:
    return final.with_suffix(PART_SUFFIX)


def tmp_path(final: Path) -> Path:
    return final.with_suffix(TMP_SUFFIX)


@dataclass(frozen=True, slots=True)
class ClosedClip:
    """A finished MP4: its length from time 0 and its size on disk."""

    duration_s: float
    size_bytes: int


class ClipWriter:
    """Appends packets of one recording to its ``.part.ts`` (see the module docstring)."""

    def __init__(self, final: Path, start_time: float, size: tuple[int, int] | None) -> None:
        self.final = final
        self.part = part_path(final)
        self.start_time = start_time
        self.packets = 0
        self.last_time = start_time
        self._started = False
        self.part.parent.mkdir(parents=True, exist_ok=True)
        self._container = av.open(str(self.part), "w", format="mpegts")
        self._stream = self._container.add_stream("h264")
        if size is not None:
            self._stream.width, self._stream.height = size

    def write(self, packet: EncodedPacket) -> None:
        """Append one packet; packets before the first keyframe are skipped (undecodable)."""
        if not self._started and not packet.keyframe:
            return
        self._started = True
        time = packet.time - self.start_time + TS_OFFSET_S
        if time < 0:
            return
        out = av.Packet(packet.data)
        out.pts = out.dts = round(time / TIME_BASE)
        out.time_base = TIME_BASE
        out.is_keyframe = packet.keyframe
        out.stream = self._stream
        self._container.mux(out)
        self.packets += 1
        self.last_time = max(self.last_time, packet.time)

    def close(self) -> None:
        try:
            self._container.close()
        except Exception as error:  # a disk that filled up may also fail the trailer
            log.debug("closing %s: %s", self.part, error)

    def abandon(self) -> None:
        """Close and delete what was written (disk full, recording refused)."""
        self.close()
        self.part.unlink(missing_ok=True)


def finalize(final: Path, *, until_s: float | None = None) -> ClosedClip | None:
    """Turn ``final``'s ``.part.ts`` into ``final`` (see the module docstring).

    ``until_s``: drop frames after this time (seconds from the clip's time 0), e.g. frames that
    were already written when the event's post-roll ended.  Returns None, leaving no file, when
    nothing in the partial file can be played.  OSError (a full disk) propagates; the partial
    file is then left for the caller to delete or retry.
    """
    part, tmp = part_path(final), tmp_path(final)
    try:
        frames, last = _remux(part, tmp, until_s)
    except av.error.FFmpegError as error:
        log.warning("clip %s cannot be read (%s); dropping it", part.name, error)
        frames, last = 0, 0.0
    if frames == 0:
        tmp.unlink(missing_ok=True)
        part.unlink(missing_ok=True)
        return None
    _fsync(tmp)
    tmp.replace(final)
    _fsync(final.parent)
    return ClosedClip(duration_s=max(0.0, last), size_bytes=final.stat().st_size)


def _remux(part: Path, tmp: Path, until_s: float | None) -> tuple[int, float]:
    """Copy the decodable packets of ``part`` into ``tmp``; (frames at or after 0, last time)."""
    offset = round(TS_OFFSET_S / TIME_BASE)
    frames = 0
    last = 0.0
    with av.open(str(part), "r", format="mpegts") as source:
        if not source.streams.video:
            return 0, 0.0
        video = source.streams.video[0]
        if video.time_base is None:
            return 0, 0.0
        scale = video.time_base / TIME_BASE
        period = 0.0
        with av.open(str(tmp), "w", format="mp4", options={"movflags": "+faststart"}) as out:
            stream = out.add_stream_from_template(video)
            previous: float | None = None
            try:
                for packet in source.demux(video):
                    if packet.pts is None or packet.size == 0:
                        continue
                    pts = round(packet.pts * scale) - offset
                    seconds = float(pts * TIME_BASE)
                    if until_s is not None and seconds > until_s + 1e-3:
                        break
                    packet.pts = packet.dts = round(pts / scale)
                    packet.stream = stream
                    out.mux(packet)
                    if previous is not None:
                        period = seconds - previous
                    previous = seconds
                    if seconds >= 0:
                        frames += 1
                        last = seconds
            except av.error.InvalidDataError as error:  # a torn last packet after a crash
                log.info("clip %s: stopped at damaged data (%s)", part.name, error)
    # The file lasts until the end of its last frame.
    return frames, last + max(period, 0.0)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

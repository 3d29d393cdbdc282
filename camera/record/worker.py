"""The recorder's thread: encoding, the pre-roll, and every file write happen here.

The frame loop only appends to a queue and never waits for this thread on a live camera: when
the queue holds ``clips.queue_frames`` frames the newest clip frame is dropped and counted (the
frame still goes through detection and alerts).  Packets from a camera's own encoder are dropped
the same way, and then every packet up to the next keyframe too, since those could not be
decoded.  A replay is not live: there the loop waits for room, so clips are complete and the
same recording always gives the same files.

Control messages (open, close, end of stream) are never dropped and keep their order with the
frames, so a recording contains exactly the frames that reached the loop before it closed.

A full disk (or one under ``clips.min_free_megabytes``) abandons the clip being written, deletes
its partial file and removes it from the store; new clips are refused until there is room again.
Nothing here touches the alert path.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import deque
from dataclasses import dataclass

import av
import numpy as np

from camera.record.budget import ClipBudget
from camera.record.config import ClipsConfig
from camera.record.encoder import SoftwareEncoder
from camera.record.errors import EncoderError
from camera.record.packets import PreRoll
from camera.record.planner import Close, Open
from camera.record.writer import ClipWriter, finalize, part_path, tmp_path
from camera.store.clips import ClipStore
from camera.types import EncodedPacket

log = logging.getLogger(__name__)

_PACKETS_PER_FRAME_SLOT = 4
"""Encoded packets are small: the packet queue may hold this many per frame slot."""
START_LAG_S = 5.0
"""An event starts at its first confirming frame but is announced a few frames later (the
tracker's confirmation; 1.9 s at most on the one-by-one footage): the pre-roll keeps this much
more than ``pre_s`` so that the clip can still begin ``pre_s`` before the event's start."""


@dataclass(frozen=True, slots=True)
class _Frame:
    image: np.ndarray
    time: float


@dataclass(frozen=True, slots=True)
class _EndStream:
    pass


@dataclass(frozen=True, slots=True)
class _Stop:
    pass


_Item = _Frame | EncodedPacket | Open | Close | _EndStream | _Stop


@dataclass
class WorkerCounters:
    """What the worker did, for the stats (plain ints: read from another thread)."""

    recorded: int = 0
    aborted: int = 0
    refused: int = 0
    frames_dropped: int = 0
    packets_dropped: int = 0
    errors: int = 0
    queue_peak: int = 0
    last_error: str = ""


class ClipWorker:
    """Owns the encoder, the pre-roll and the open file; see the module docstring."""

    def __init__(self, config: ClipsConfig, store: ClipStore, budget: ClipBudget) -> None:
        self.config = config
        self.store = store
        self.budget = budget
        self.encoder = SoftwareEncoder(
            config.encoder, crf=config.crf, keyframe_interval_s=config.keyframe_interval_s
        )
        self.preroll = PreRoll(config.pre_s + START_LAG_S, int(config.preroll_max_megabytes * 1e6))
        self.counters = WorkerCounters()
        self.packet_size: tuple[int, int] | None = None
        """Frame size of packets from a camera's encoder (None: frames are encoded here)."""
        self._writer: ClipWriter | None = None
        self._queue: deque[_Item] = deque()
        self._frames_queued = 0
        self._packets_queued = 0
        self._skip_to_keyframe = False
        self._room_lost = False
        self._condition = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="ronda-clips", daemon=True)
        self._thread.start()

    @property
    def recording(self) -> bool:
        return self._writer is not None

    # -- producers (the frame loop; a camera encoder's thread) ---------------------------------
    def put_frame(self, image: np.ndarray, time: float, *, wait: bool) -> bool:
        """Queue a frame to encode; False when it was dropped (queue full, live camera)."""
        with self._condition:
            while self._frames_queued >= self.config.queue_frames:
                if not wait or not self._thread.is_alive():
                    self.counters.frames_dropped += 1
                    return False
                self._condition.wait(0.5)
            self._frames_queued += 1
            self._append(_Frame(image, time))
        return True

    def put_packet(self, packet: EncodedPacket) -> None:
        """Queue a packet from a camera's own encoder (called on that encoder's thread)."""
        with self._condition:
            if self._skip_to_keyframe and not packet.keyframe:
                self.counters.packets_dropped += 1
                return
            self._skip_to_keyframe = False
            if self._packets_queued >= self.config.queue_frames * _PACKETS_PER_FRAME_SLOT:
                self._skip_to_keyframe = True
                self.counters.packets_dropped += 1
                return
            self._packets_queued += 1
            self._append(packet)

    def put(self, item: Open | Close) -> None:
        with self._condition:
            self._append(item)

    def end_stream(self) -> None:
        with self._condition:
            self._append(_EndStream())

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the queue (closing the open clip) and end the thread."""
        with self._condition:
            self._append(_Stop())
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("clips: the recorder did not finish within %.0f s", timeout)

    def wait_idle(self, timeout: float) -> bool:
        """True once everything queued so far has been handled (tests, benchmarks)."""
        with self._condition:
            return self._condition.wait_for(lambda: not self._queue and not self._busy, timeout)

    def _append(self, item: _Item) -> None:
        self._queue.append(item)
        self.counters.queue_peak = max(self.counters.queue_peak, len(self._queue))
        self._condition.notify_all()

    # -- the thread ----------------------------------------------------------------------------
    _busy = False

    def _run(self) -> None:
        _lower_priority()
        while True:
            with self._condition:
                self._condition.wait_for(lambda: bool(self._queue))
                item = self._queue.popleft()
                if isinstance(item, _Frame):
                    self._frames_queued -= 1
                elif isinstance(item, EncodedPacket):
                    self._packets_queued -= 1
                self._busy = True
                self._condition.notify_all()
            try:
                self._handle(item)
            except Exception as error:  # never let one bad clip end the recorder
                self._fail(error)
            finally:
                with self._condition:
                    self._busy = False
                    self._condition.notify_all()
            if isinstance(item, _Stop):
                return

    def _handle(self, item: _Item) -> None:
        if isinstance(item, _Frame):
            for packet in self.encoder.encode(item.image, item.time):
                self._packet(packet)
        elif isinstance(item, EncodedPacket):
            self._packet(item)
        elif isinstance(item, Open):
            self._open(item)
        elif isinstance(item, Close):
            self._close(item.file, item.at)
        else:  # end of the stream, or stop
            for packet in self.encoder.flush():
                self._packet(packet)
            if self._writer is not None:
                self._close(self._writer_file(), self._writer.last_time)
            self.preroll.clear()

    def _packet(self, packet: EncodedPacket) -> None:
        self.preroll.add(packet)
        writer = self._writer
        if writer is None:
            return
        if packet.keyframe and not self.budget.room(writer.final.parent):
            self._abort("less than clips.min_free_megabytes free")
            return
        writer.write(packet)

    def _open(self, item: Open) -> None:
        if self._writer is not None:  # the planner never overlaps recordings; be safe anyway
            self._close(self._writer_file(), self._writer.last_time)
        final = self.store.path(item.file)
        if not self.budget.room(self.store.state_dir):
            self.counters.refused += 1
            self.store.forget([item.file])
            self._room_gone("less than clips.min_free_megabytes free")
            return
        size = self.packet_size or self.encoder.size
        writer = ClipWriter(final, item.start, size)
        self._writer = writer
        for packet in self.preroll.since(item.start):
            writer.write(packet)

    def _close(self, file: str, at: float) -> None:
        writer = self._writer
        if writer is None or self._writer_file() != file:
            return
        self._writer = None
        writer.close()
        closed = finalize(writer.final, until_s=at - writer.start_time)
        if closed is None:
            self.store.forget([file])
            log.info("clips: %s had no playable frame; dropped", file)
            return
        self.store.finished(file, closed.duration_s, closed.size_bytes)
        part_path(writer.final).unlink(missing_ok=True)  # only once the store has the MP4
        self.counters.recorded += 1
        if self._room_lost:
            self._room_lost = False
            log.warning("clips: recording again (the disk has room)")
        log.info(
            "clips: %s closed, %.1f s, %.2f MB", file, closed.duration_s, closed.size_bytes / 1e6
        )
        self.budget.prune()

    def _writer_file(self) -> str:
        assert self._writer is not None
        return self._writer.final.relative_to(self.store.state_dir).as_posix()

    # -- failures ------------------------------------------------------------------------------
    def _abort(self, reason: str) -> None:
        """Give up the open clip: delete its files and forget it (the events stay)."""
        writer, self._writer = self._writer, None
        if writer is None:
            return
        writer.abandon()
        tmp_path(writer.final).unlink(missing_ok=True)
        writer.final.unlink(missing_ok=True)
        self.counters.aborted += 1
        try:
            self.store.forget([writer.final.relative_to(self.store.state_dir).as_posix()])
        except Exception as error:  # the database may be on the same full disk
            log.debug("clips: forgetting %s failed: %s", writer.final.name, error)
        self._room_gone(reason)

    def _room_gone(self, reason: str) -> None:
        if not self._room_lost:
            self._room_lost = True
            log.warning("clips: stopped recording (%s); alerts are not affected", reason)

    def _fail(self, error: Exception) -> None:
        self.counters.errors += 1
        self.counters.last_error = f"{type(error).__name__}: {error}"[:200]
        if isinstance(error, OSError) or _disk_full(error):
            self._abort(f"cannot write: {error}")
        elif isinstance(error, EncoderError | av.error.FFmpegError):
            log.error("clips: %s", error)
            self._abort(str(error))
            self.encoder.reset()
        else:
            log.exception("clips: unexpected failure; the open clip is dropped")
            self._abort(str(error))


NICENESS = 5
"""How much lower than the frame loop the recorder's thread runs: when the two compete for a
core, detection and alerts go first (a live camera then drops clip frames, counted)."""


def _lower_priority() -> None:
    """Best effort: Linux schedules threads separately, so this thread alone gets nicer."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICENESS)
    except (AttributeError, OSError) as error:
        log.debug("clips: the recorder's priority stays as it is: %s", error)


def _disk_full(error: Exception) -> bool:
    return "disk is full" in str(error) or "No space left" in str(error)

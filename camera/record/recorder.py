"""The clip recorder: a sink that also sees frames.

On the frame loop it does only bookkeeping: it hands each frame it wants (at the clip frame
rate) to its worker thread, plans recordings from event updates (``planner``) and answers with
the clip each update publishes.  Everything slow — encoding, the pre-roll, files, the store's
clip rows — happens on the worker (``worker``), which never holds up the loop on a live camera.

Where a camera has its own H.264 encoder (the Pi camera through picamera2), the recorder asks the
source to run it and takes its packets instead of frames: no encoding on the CPU at all.

The governor's policy decides how clips may be recorded (``Policy.clips``): ``full`` at
``clips.fps`` (and never above the policy's frame rate), ``reduced`` at ``clips.reduced_fps``,
``paused`` not at all (an open recording closes at once).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol, TypedDict, runtime_checkable

from camera.events import ClipRef, EventUpdate, clip_url
from camera.files import describe_os_error, shown
from camera.pipeline.rate import FrameRateLimiter
from camera.record.budget import ClipBudget
from camera.record.config import ClipsConfig
from camera.record.encoder import check_encoder
from camera.record.planner import RecordingPlanner
from camera.record.recovery import recover
from camera.record.worker import ClipWorker
from camera.store.clips import ClipStore
from camera.types import ClipMode, EncodedPacket, Frame, Policy

log = logging.getLogger(__name__)

CLIPS_DIR = "clips"


class ClipStats(TypedDict):
    """``Recorder.stats()``: the ``clips`` entry of the stats message and ``ronda status``."""

    mode: ClipMode
    fps: float | None
    encoder: str
    recording: bool
    recorded: int
    aborted: int
    skipped_no_room: int
    frames_dropped: int
    packets_dropped: int
    errors: int
    last_error: str
    preroll_bytes: int
    preroll_peak_bytes: int
    queue_peak: int
    disk_bytes: int
    deleted: int


@runtime_checkable
class EncodingSource(Protocol):
    """A source that can run its camera's own H.264 encoder for clips (picamera2)."""

    def enable_clip_encoder(
        self,
        sink: Callable[[EncodedPacket], None],
        *,
        bitrate: int,
        keyframe_interval_s: float,
    ) -> tuple[int, int] | None:
        """Start delivering packets to ``sink`` with the camera; the frame size, or None when
        this camera has no encoder to offer (then the recorder encodes frames itself)."""
        ...

    def set_clip_fps(self, fps: float | None) -> None:
        """Encode at most ``fps`` frames a second; None pauses the encoder."""
        ...


class Recorder:
    """See the module docstring.  ``public_url``: the web page's address, for clip links;
    ``salvage``: close the clips an earlier process left open (False while another process
    still records into this state directory, see ``camera.store.lock``)."""

    def __init__(
        self,
        config: ClipsConfig,
        store: ClipStore,
        *,
        public_url: str | None = None,
        salvage: bool = True,
    ) -> None:
        check_encoder(config.encoder)
        self.config = config
        self.store = store
        self.public_url = public_url
        self.budget = ClipBudget(config, store)
        folder = store.state_dir / CLIPS_DIR
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:  # a full disk stops clips, never the camera or its alerts
            log.warning(
                "clips: cannot create %s (%s): no clips until there is room; alerts go on",
                shown(folder),
                describe_os_error(error),
            )
        if salvage and folder.is_dir():
            recover(store, folder)
        self.budget.prune()
        self.planner = RecordingPlanner(config, lambda event_id: clip_url(public_url, event_id))
        self.limiter = FrameRateLimiter(config.fps)
        self.worker = ClipWorker(config, store, budget=self.budget)
        self.mode: ClipMode = "full"
        self.fps: float | None = config.fps
        self.hardware = False
        self._live = True
        self._source: EncodingSource | None = None
        self._policy_fps: float | None = None
        self._last_time: float | None = None
        self.skipped_no_room = 0

    # -- stream boundaries -------------------------------------------------------------------
    def begin_stream(self, source: object) -> None:
        """A new recording or camera session: the pre-roll and the timeline start over."""
        self._live = bool(getattr(source, "live", True))
        self.planner.begin_stream()
        self.limiter = FrameRateLimiter(self.fps)
        self._source = None
        self.hardware = False
        if isinstance(source, EncodingSource):
            size = source.enable_clip_encoder(
                self.worker.put_packet,
                bitrate=self.config.bitrate_kbps * 1000,
                keyframe_interval_s=self.config.keyframe_interval_s,
            )
            if size is not None:
                self.worker.packet_size = size
                self._source = source
                self.hardware = True
                source.set_clip_fps(self._clip_fps())
                log.info("clips: using the camera's own H.264 encoder")

    def end_stream(self) -> None:
        """The stream ended: close what is open with the last frame seen."""
        if self._last_time is not None and (close := self.planner.close_now(self._last_time)):
            self.worker.put(close)
        self.worker.end_stream()
        self._last_time = None

    def close(self) -> None:
        self.end_stream()
        self.worker.stop()

    # -- per frame (the pipeline's loop) -------------------------------------------------------
    def frame(self, frame: Frame, policy: Policy) -> None:
        now = frame.timestamp
        self._last_time = now
        self._apply(policy, now)
        if close := self.planner.tick(now):
            self.worker.put(close)
        if self.mode == "paused" or self.hardware:
            return
        if self.limiter.accept(now):
            self.worker.put_frame(frame.image, now, wait=not self._live)

    def clip_for(self, update: EventUpdate) -> ClipRef | None:
        """The clip ``update`` publishes (None: no clip for this event)."""
        allowed = False
        if update.type == "start" and self.config.labels.wants(update.label):
            allowed = self.mode != "paused" and self._room()
        ref, opened = self.planner.on_update(update, allowed)
        if opened is not None:
            self.store.opened(opened.file, opened.start)
            self.worker.put(opened)
        return ref

    def _room(self) -> bool:
        if self.budget.room(self.store.state_dir):
            return True
        self.skipped_no_room += 1
        if self.skipped_no_room == 1 or self.skipped_no_room % 100 == 0:
            log.warning(
                "clips: no clip for this event: less than %g MB free on %s (%d skipped)",
                self.config.min_free_megabytes,
                self.store.state_dir,
                self.skipped_no_room,
            )
        return False

    def _apply(self, policy: Policy, now: float) -> None:
        if policy.clips == self.mode and policy.fps == self._policy_fps:
            return
        self.mode = policy.clips
        self._policy_fps = policy.fps
        self.fps = self._clip_fps()
        self.limiter.fps = self.fps
        if self.mode == "paused" and (close := self.planner.close_now(now)):
            self.worker.put(close)
        if self._source is not None:
            self._source.set_clip_fps(self.fps)
        rate = "paused" if self.fps is None else f"{self.fps:g} fps"
        log.info("clips: %s (%s): %s", self.mode, rate, policy.reason)

    def _clip_fps(self) -> float | None:
        if self.mode == "paused":
            return None
        fps = self.config.reduced_fps if self.mode == "reduced" else self.config.fps
        return min(fps, self._policy_fps) if self._policy_fps else fps

    # -- reporting ---------------------------------------------------------------------------
    def stats(self) -> ClipStats:
        """The ``clips`` entry of the stats message and ``ronda status``."""
        counters = self.worker.counters
        preroll = self.worker.preroll
        return ClipStats(
            {
                "mode": self.mode,
                "fps": self.fps,
                "encoder": "camera" if self.hardware else self.config.encoder,
                "recording": self.worker.recording,
                "recorded": counters.recorded,
                "aborted": counters.aborted,
                "skipped_no_room": self.skipped_no_room + counters.refused,
                "frames_dropped": counters.frames_dropped,
                "packets_dropped": counters.packets_dropped,
                "errors": counters.errors,
                "last_error": counters.last_error,
                "preroll_bytes": preroll.bytes,
                "preroll_peak_bytes": preroll.peak_bytes,
                "queue_peak": counters.queue_peak,
                "disk_bytes": self.store.total_bytes(),
                "deleted": self.store.deleted(),
            }
        )

"""One frame through every stage, in one direction.

The same code runs live and in replay: only the source and its clock differ.  Per frame:

1. the governor's current policy is applied (frame rate, model variant, detector on/off);
2. frames the rate limit does not need are dropped before any work is done on them;
3. motion is computed on a small grayscale frame;
4. regions are planned from motion and from live tracks (a still person keeps being looked at);
5. only if there is a region does the detector run, on crops at its input size;
6. the tracker turns detections into event changes; with the detector paused, persistent
   motion itself becomes a (motion-only) event;
7. each change becomes an event update with a thumbnail (and, with a recorder, the clip it
   points to), handed to every sink.

A clip recorder sees every frame the source delivers, before the rate limit (it keeps its own
clip frame rate), and names the clip of each update before the sinks see it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Protocol

from camera.controls import ControlState
from camera.detect import Detector
from camera.events import ClipRef, EventAssembler, EventPublisher, EventUpdate, render_thumbnail
from camera.governor import Governor
from camera.motion import MotionDetector, RegionConfig, RegionPlanner
from camera.motion.scan import StartScan
from camera.night import LightState, NightWatch
from camera.pipeline.controlled import (
    ControlSource,
    StageChoice,
    recorder_policy,
)
from camera.pipeline.occupancy import ZoneNews
from camera.pipeline.rate import FrameRateLimiter
from camera.pipeline.sinks import EventSink
from camera.pipeline.stages import StageConfigs
from camera.pipeline.stats import PipelineStats
from camera.track import Tracker, TrackEvent, event_ids
from camera.track.tracker import EndReason
from camera.types import Box, Detection, Frame, MotionResult, Policy, Region

log = logging.getLogger(__name__)


@dataclass
class FrameOutcome:
    """What happened to one frame; handed to frame hooks (tests, benchmarks, the watchdog)."""

    frame: Frame
    processed: bool
    policy: Policy
    motion: MotionResult | None = None
    regions: list[Region] = field(default_factory=list)
    detections: list[Detection] = field(default_factory=list)
    detector_ran: bool = False
    updates: list[EventUpdate] = field(default_factory=list)
    age_s: float | None = None
    """How old the frame was when the loop started on it (live and realtime sources only)."""
    privacy: bool = False
    """The owner's privacy mode is on: the frame was not looked at (hooks must not show it)."""


FrameHook = Callable[[FrameOutcome], None]


class Planner(Protocol):
    """What the loop needs of a region planner (``RegionPlanner``; benchmarks swap in others)."""

    def plan(
        self,
        motion: MotionResult,
        tracked: list[Box],
        frame_index: int,
        urgent: list[Box] = ...,
    ) -> list[Region]: ...


PlannerFactory = Callable[[RegionConfig, tuple[int, int], int], Planner]


class ClipRecorder(Protocol):
    """What the loop needs of a clip recorder (``camera.record.Recorder``).  Both calls are
    bookkeeping only: the recorder does its encoding and writing on its own thread."""

    def frame(self, frame: Frame, policy: Policy) -> None: ...

    def clip_for(self, update: EventUpdate) -> ClipRef | None: ...


class Pipeline:
    """See the module docstring.  Frame-size dependent stages are built at the first frame."""

    def __init__(
        self,
        *,
        camera: str,
        topic_prefix: str,
        stages: StageConfigs,
        detector: Detector | None,
        sinks: Iterable[EventSink],
        governor: Governor | None = None,
        default_policy: Policy | None = None,
        hooks: Iterable[FrameHook] = (),
        planner_factory: PlannerFactory = RegionPlanner,
        recorder: ClipRecorder | None = None,
        camera_name: str | None = None,
        controls: ControlSource | None = None,
    ) -> None:
        """``camera_name``: the display name events carry (default: ``camera``).  ``controls``:
        the owner's controls, read at every frame (None: armed, recording, the file's stages)."""
        self.controls = controls
        self.night = NightWatch(stages.night)
        """The scene's light (day, dark, infrared): its night values replace the day's."""
        self.on_light_change: list[Callable[[LightState], None]] = []
        self.stage_choice = StageChoice(stages, controls.current if controls else None, self.night)
        self.stages = self.stage_choice.current()
        """The stages that apply now: the configuration's with the controls and night values."""
        self.detector = detector
        self.sinks = list(sinks)
        self.governor = governor
        self.hooks = list(hooks)
        self.planner_factory = planner_factory
        self.recorder = recorder
        self.stats = PipelineStats()
        self.limiter = FrameRateLimiter()
        self.policy = default_policy or Policy(
            precision=detector.precision if detector else None,
            variant=detector.variant if detector else None,
            detect=detector is not None,
        )
        self.on_policy_change: list[Callable[[Policy], None]] = []
        self.zones = ZoneNews()
        """Zone occupancy listeners get the counts that changed (all of them at first)."""
        self.source_name = ""
        self._new_event_id = event_ids()
        self.events = EventPublisher(EventAssembler(camera, camera_name or camera, topic_prefix))
        """Assembles every update (``camera.events.publisher``): who publishes, numbering."""
        self._frame_size: tuple[int, int] | None = None
        self._motion: MotionDetector | None = None
        self._planner: Planner | None = None
        self._scan: StartScan | None = None
        self._tracker: Tracker | None = None
        self._last_timestamp = 0.0

    # -- reconfiguration ---------------------------------------------------------------------
    def request_stages(self, stages: StageConfigs) -> None:
        """Hand the loop new stage configurations (masks, zones) from any thread: the loop
        applies the newest at its next frame, as it applies a governor policy (never blocks)."""
        self.stage_choice.request(stages)

    def _apply_stage_requests(self) -> None:
        if not self.stage_choice.take_request():
            return
        self._set_stages(self.stage_choice.current())
        log.info(
            "configuration applied: %d motion mask(s), zones %s",
            len(self.stages.motion.masks),
            ", ".join(self.stages.zones) or "none",
        )

    def _set_stages(self, stages: StageConfigs) -> None:
        old, self.stages = self.stages, stages
        if self._tracker is not None and (
            stages.tracker != old.tracker or dict(stages.zones) != dict(old.zones)
        ):
            self._tracker.reconfigure(stages.tracker, dict(stages.zones))
        if (
            self._motion is not None
            and self._frame_size
            and stages.motion != old.motion
            and not self._motion.reconfigure(stages.motion)
        ):  # another motion frame size: a new detector learns the scene again
            self._motion = MotionDetector(stages.motion, self._frame_size)

    # -- the owner's controls ----------------------------------------------------------------
    def _apply_controls(self) -> ControlState | None:
        """Take the controls' state as it is now (a new state object means a change)."""
        if self.controls is None:
            return None
        state = self.controls.current
        old = self.stage_choice.controls
        if state is old:
            return state
        self.stage_choice.controls = state
        if old is None or (state.sensitivity, state.thresholds) != (
            old.sensitivity,
            old.thresholds,
        ):
            self._set_stages(self.stage_choice.current())
        if state.privacy and (old is None or not old.privacy):
            log.info("privacy on: no frame is looked at until it is off")
            self._end_events("privacy")
        elif old is not None and old.privacy and not state.privacy:
            log.info("privacy off: watching again")
        return state

    # -- stream boundaries -------------------------------------------------------------------
    def begin_stream(
        self, source_name: str, full_fps: float | None = None, *, live: bool = False
    ) -> None:
        """A new recording or camera session: fresh background and tracks, same event ids.

        ``full_fps``: the rate a live (or realtime) source delivers, for the governor's load
        reading; None for a replay as fast as the CPU allows (no load then).  ``live``: frame
        timestamps are wall-clock (else the recording's timeline, see ``EventClock``)."""
        self.source_name = source_name
        self._frame_size = None
        self.events.clock.begin_stream(live=live)
        self.night.reset()  # another recording or camera session: its first look decides
        if self.governor is not None:
            self.governor.load_meter.full_fps = full_fps

    def end_stream(self, reason: EndReason = "stream_end") -> list[EventUpdate]:
        """End every open event (end of a recording: ``stream_end``; service stop: ``shutdown``)
        and publish the ends."""
        return self._end_events(reason)

    def _end_events(self, reason: EndReason) -> list[EventUpdate]:
        """End every open event now; the next frame starts a fresh background and tracks."""
        if self._tracker is None:
            return []
        updates = self._publish(self._tracker.finish(self._last_timestamp, reason), frame=None)
        self._publish_occupancy()  # every zone empties with the stream
        self._tracker = None
        self._frame_size = None
        return updates

    def open_events(self) -> int:
        return self._tracker.open_events() if self._tracker else 0

    # -- per frame ---------------------------------------------------------------------------
    def process(self, frame: Frame) -> FrameOutcome:
        self.stats.frame_seen(frame.timestamp)
        self.events.clock.observe(frame.timestamp)
        self._last_timestamp = frame.timestamp
        self._apply_policy(frame.timestamp)
        self._apply_stage_requests()
        controls = self._apply_controls()
        if self.recorder is not None:
            clips = self.policy if controls is None else recorder_policy(self.policy, controls)
            self.recorder.frame(frame, clips)
        privacy = controls is not None and controls.privacy
        outcome = FrameOutcome(frame=frame, processed=False, policy=self.policy, privacy=privacy)
        if not privacy and self.limiter.accept(frame.timestamp):
            started = time.monotonic()
            if frame.captured is not None:
                outcome.age_s = started - frame.captured
                self.stats.frame_age(outcome.age_s)
            self._ensure_stages(frame)
            self._process_kept(frame, outcome)
            if self.governor is not None:
                self.governor.load_meter.frame_done(time.monotonic() - started)
        for hook in self.hooks:
            hook(outcome)
        return outcome

    def _process_kept(self, frame: Frame, outcome: FrameOutcome) -> None:
        assert self._motion and self._planner and self._tracker
        outcome.processed = True
        self.stats.frame_processed(frame.timestamp)
        self._watch_light(frame)
        assert self._motion is not None  # (rebuilt, never removed, by a light change)
        motion = self._motion.update(frame)
        outcome.motion = motion
        if motion.active:
            self.stats.motion_frames += 1
        if self.policy.detect and self.detector is not None:
            self._tracker.observe_motion(motion.boxes, frame.timestamp)
            # The planner counts *processed* frames: when the governor halves the frame rate, the
            # refresh crops of tracked objects halve too, which is where the compute goes.
            outcome.regions = self._planner.plan(
                motion,
                self._tracker.active_boxes(frame.timestamp),
                self.stats.processed,
                urgent=self._tracker.urgent_boxes(frame.timestamp),
            )
            if self._scan is not None:  # the whole picture once when a stream begins
                outcome.regions += self._scan.take()
            if outcome.regions:
                outcome.detections = self._detect(frame, outcome.regions)
                outcome.detector_ran = True
                changes = self._tracker.update(outcome.detections, frame.timestamp, frame.image)
            else:
                changes = self._tracker.expire(frame.timestamp)
        else:
            changes = self._tracker.update(_motion_as_detections(motion), frame.timestamp)
        outcome.updates = self._publish(changes, frame=frame)
        self._publish_occupancy()

    def _detect(self, frame: Frame, regions: list[Region]) -> list[Detection]:
        assert self.detector is not None
        started = time.perf_counter()
        detections = self.detector.detect_frame(frame, regions)
        self.stats.detector_ran(time.perf_counter() - started, crops=len(regions))
        return detections

    def _ensure_stages(self, frame: Frame) -> None:
        if self._frame_size == frame.size and self._tracker is not None:
            return
        if self._tracker is not None:  # resolution changed mid-stream: close what was open
            self._publish(self._tracker.finish(self._last_timestamp), frame=None)
        self._frame_size = frame.size
        input_size = self.detector.input_size if self.detector else 416
        self._motion = MotionDetector(self.stages.motion, frame.size)
        self._planner = self.planner_factory(self.stages.regions, frame.size, input_size)
        self._scan = StartScan(self.stages.regions, frame.size, input_size)
        self._tracker = Tracker(
            self.stages.tracker, frame.size, self._new_event_id, zones=dict(self.stages.zones)
        )

    # -- night -------------------------------------------------------------------------------
    def _watch_light(self, frame: Frame) -> None:
        """Follow the scene's light; when night begins or ends, the night values come in or go
        (from this frame on), and the listeners hear of it (the stats are published at once)."""
        was_night = self.night.current.night
        changed = self.night.observe(frame)
        if changed is None:
            return
        if changed.night != was_night and self.stage_choice.base.night.enabled:
            self._set_stages(self.stage_choice.current())
        for callback in self.on_light_change:
            callback(changed)

    # -- governor ----------------------------------------------------------------------------
    def _apply_policy(self, now: float) -> None:
        if self.governor is None:
            return
        policy = self.governor.poll(now)
        if policy == self.policy:
            return
        self.policy = policy
        self.limiter.fps = policy.fps
        if (
            self.detector is not None
            and policy.detect
            and policy.variant is not None
            and policy.variant != self.detector.variant
        ):
            self.detector.set_variant(policy.variant)
        for callback in self.on_policy_change:
            callback(policy)

    def _publish_occupancy(self) -> None:
        if self._tracker is not None and self.zones.listeners:
            self.zones.update(self._tracker.occupancy())

    # -- events ------------------------------------------------------------------------------
    def _publish(self, changes: list[TrackEvent], frame: Frame | None) -> list[EventUpdate]:
        updates: list[EventUpdate] = []
        for change in changes:
            thumbnail = None
            if change.snapshot and frame is not None:
                thumbnail = render_thumbnail(
                    frame.image, change.box, change.label, self.stages.thumbnail
                )
            update = self.events.update(
                change,
                precision=self.detector.precision if self.detector else "none",
                source=self.source_name,
                has_thumbnail=thumbnail is not None,
                suppressed_by=self._suppression(),
            )
            if self.recorder is not None:
                update = replace(update, clip=self.recorder.clip_for(update))
            self._record(update)
            for sink in self.sinks:
                sink.emit(update, thumbnail)
            updates.append(update)
        return updates

    def _suppression(self) -> str | None:
        """Why updates publish without alerting now (the owner's controls), or None."""
        state = self.stage_choice.controls
        return None if state is None else state.suppression(time.time())

    def _record(self, update: EventUpdate) -> None:
        self.stats.event_update(update)
        log.info("event %s", update.describe())


def _motion_as_detections(motion: MotionResult) -> list[Detection]:
    """With the detector paused, the union of persistent motion is one motion-only object."""
    if not motion.boxes:
        return []
    union: Box = motion.boxes[0]
    for box in motion.boxes[1:]:
        union = union.union(box)
    return [Detection(label="motion", subclass="motion", score=1.0, box=union)]

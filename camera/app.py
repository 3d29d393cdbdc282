"""Wiring: build every stage from the configuration and run sources through them.

``ronda run``, ``ronda replay`` and ``ronda demo`` all come through here, so the live camera and a
replayed recording share one code path.  This module owns lifetimes (open, run, drain, close); the
stages themselves know nothing of each other.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from camera.config import ConfigFileWatch, RondaConfig
from camera.controls import Controls, ControlState, initial_state
from camera.detect import Detector, load_detector
from camera.detect.fallback import FallingBack
from camera.governor import Governor
from camera.mqtt import MqttAlertSink, MqttLink, Topics
from camera.mqtt.commands import ControlTopics
from camera.mqtt.discovery import DiscoveryPublisher, attach_discovery
from camera.pipeline import EventSink, JsonlSink, Pipeline, StoreSink
from camera.pipeline.interrupted import end_interrupted
from camera.pipeline.loop import FrameHook, StageConfigs
from camera.pipeline.still import StillWriter
from camera.record.recorder import Recorder
from camera.shutdown import Shutdown
from camera.sources import FrameSource, LiveTiming
from camera.stats_message import StatsPayload, gather_stats
from camera.store import DATABASE_NAME, Database, EventStore, Outbox
from camera.store.lock import StateLock
from camera.store.outbox import OutboxError
from camera.track.tracker import OCCUPANCY_LABELS
from camera.types import Policy

log = logging.getLogger(__name__)

HELD_RETRY_S = 1.0


@dataclass
class RunOptions:
    """What differs between ``run``, ``replay`` and ``demo``."""

    use_mqtt: bool = True
    jsonl: Path | None = None
    extra_sinks: list[EventSink] = field(default_factory=list)
    hooks: list[FrameHook] = field(default_factory=list)
    use_governor: bool = True
    config_path: Path | None = None
    """The file the configuration came from: masks and zones changed in it (by ``ronda web``)
    apply while running."""
    shutdown: Shutdown = field(default_factory=Shutdown)
    """The command's stop state: a second SIGINT/SIGTERM abandons the drain at once."""
    live_camera: bool = False
    """This process is the camera itself (``ronda run``): it restores and obeys the owner's
    controls (docs/controls.md) and leaves the still for ``ronda web``'s editor.  A replay, the
    demo and an evaluation do neither: a replay on the Pi must not obey the camera's commands,
    overwrite its retained state or its saved choices, nor be silenced by its privacy mode."""


class Runtime:
    """Everything one process needs; ``close()`` ends open events and drains the outbox."""

    def __init__(self, config: RondaConfig, options: RunOptions) -> None:
        self.config = config
        self.options = options
        self.state_dir = config.store.directory()
        # Everything that can fail on a bad path comes before the model load (a second or two),
        # so a wrong state directory or --events-jsonl is reported at once.
        self.database = Database(self.state_dir / DATABASE_NAME)
        self.state_lock = StateLock(self.state_dir)
        # The owner cleans up what a process that died left behind (open events and clips).
        self.owner = self.state_lock.acquire()
        try:
            self._build(config, options)
        except BaseException:
            jsonl: JsonlSink | None = getattr(self, "jsonl", None)
            if jsonl is not None:
                jsonl.close()
            self.database.close()
            self.state_lock.release()
            raise

    def _build(self, config: RondaConfig, options: RunOptions) -> None:
        """One step per subsystem, in the order their failures should be seen and their
        records survive: the store, the controls, the detector, the sinks (the outbox first),
        the recorder, the end of what a dead process left open, the frame loop, then start."""
        self._build_store(config)
        self._build_controls(config, options)
        self.jsonl = JsonlSink(options.jsonl) if options.jsonl is not None else None
        self._build_detector(config, options)
        self.sinks = self._build_sinks(config, options)
        self._build_recorder(config)
        if self.owner:  # after the clips are salvaged: each end names its event's clip
            self._end_interrupted(config)
        self._build_pipeline(config, options)
        self._build_occupancy(config)
        self._source: FrameSource | None = None
        self.on_config_change: list[Callable[[RondaConfig], None]] = []
        self._config_watch = (
            ConfigFileWatch(options.config_path) if options.config_path is not None else None
        )
        self._next_stats = 0.0
        self.dead_letters = 0
        """Messages kept as dead letters when the runtime closed (``ronda outbox list``)."""
        self._next_held_retry = 0.0
        options.shutdown.on_abandon(self.cancel_drain)
        self._start()

    def _build_store(self, config: RondaConfig) -> None:
        self.events = EventStore(self.database, config.store)
        self.outbox = Outbox(self.database, config.mqtt.outbox)
        self.topics = Topics(config.topic_prefix)

    def _build_controls(self, config: RondaConfig, options: RunOptions) -> None:
        # Read before the model loads: a reboot restores what the owner chose, at once.
        self.controls = (
            Controls(first_controls(config), self.state_dir) if options.live_camera else None
        )

    def _build_detector(self, config: RondaConfig, options: RunOptions) -> None:
        governed = options.use_governor and config.governor.enabled
        # Timed once per device and model file, then read from the state directory; only the
        # rungs the governor's levels can reach are loaded.
        self.detector: Detector = load_detector(
            config.detector,
            cache_dir=self.state_dir,
            rungs=1 + config.governor.deepest_model_step() if governed else 1,
            pi_camera=options.live_camera and config.source.pi_camera(),
        )
        self.governor = Governor(config.governor, models=self.detector.ladder) if governed else None
        if isinstance(self.detector, FallingBack):  # an accelerator failing while running
            self.detector.listeners.append(self._detector_changed)

    def _build_sinks(self, config: RondaConfig, options: RunOptions) -> list[EventSink]:
        self.link: MqttLink | None = None
        self.alert_sink: MqttAlertSink | None = None
        self.discovery: DiscoveryPublisher | None = None
        # The outbox first: should the process die between two sinks, the alert is on disk.
        sinks: list[EventSink] = []
        if options.use_mqtt and config.mqtt.enabled:
            self.link, self.alert_sink, self.discovery = build_mqtt(
                config, self.outbox, self.topics, self.controls
            )
            sinks.append(self.alert_sink)
        sinks.append(StoreSink(self.events))
        if self.jsonl is not None:
            sinks.append(self.jsonl)
        sinks.extend(options.extra_sinks)
        return sinks

    def _build_recorder(self, config: RondaConfig) -> None:
        # Clip links in alerts use the web page's address (web.public_url), when it is set.
        self.recorder = (
            Recorder(
                config.clips,
                self.events.clips,
                public_url=config.web.public_url,
                salvage=self.owner,
            )
            if config.clips.enabled
            else None
        )

    def _end_interrupted(self, config: RondaConfig) -> None:
        end_interrupted(
            self.events,
            self.sinks,
            topic_prefix=config.topic_prefix,
            camera_name=config.camera.shown_name,
            precision=self.detector.precision,
            public_url=config.web.public_url,
        )

    def _build_pipeline(self, config: RondaConfig, options: RunOptions) -> None:
        hooks = list(options.hooks)
        if options.live_camera:  # the still for ``ronda web``'s masks editor, every few minutes
            hooks.append(StillWriter(self.state_dir))
        self.pipeline = Pipeline(
            camera=config.camera.name,
            camera_name=config.camera.shown_name,
            topic_prefix=config.topic_prefix,
            stages=stage_configs(config),
            detector=self.detector,
            sinks=self.sinks,
            governor=self.governor,
            default_policy=Policy(
                precision=self.detector.precision, variant=self.detector.variant, detect=True
            ),
            hooks=hooks,
            recorder=self.recorder,
            controls=self.controls,
        )
        self.pipeline.on_policy_change.append(self._policy_changed)
        # Night began or ended: the retained stats say so at once, not at the next interval.
        self.pipeline.on_light_change.append(lambda _light: self._publish_stats())

    def _build_occupancy(self, config: RondaConfig) -> None:
        if self.alert_sink is None:
            return
        # Zone counts a dead process left retained go to 0 now, before any frame (a camera
        # that never delivers one must not show a visitor forever); the pipeline then
        # publishes only what differs from that.
        zeros = {(zone, label): 0 for zone in config.zones for label in OCCUPANCY_LABELS}
        self.alert_sink.occupancy(zeros)
        self.pipeline.zones.published(zeros)
        self.pipeline.zones.listeners.append(self.alert_sink.occupancy)

    def _start(self) -> None:
        if self.controls is not None:
            self.controls.start()
        if self.link is not None:
            self.link.start()

    def _detector_changed(self, detector: Detector) -> None:
        """The CPU took over from a failed accelerator: the governor steps down its ladder."""
        if self.governor is not None:
            self.governor.models = tuple(detector.ladder)

    # -- running -----------------------------------------------------------------------------
    def run_source(
        self,
        source: FrameSource,
        stop: threading.Event,
        on_frame: Callable[[int], None] | None = None,
    ) -> None:
        """Feed every frame of ``source`` through the pipeline until it ends or ``stop`` is set."""
        self._source = source
        network = getattr(self.detector, "network", None)
        if network is not None and hasattr(source, "attach_network"):
            source.attach_network(network)  # the AI Camera: its network opens with the camera
        timing = source if isinstance(source, LiveTiming) else None
        self.pipeline.begin_stream(
            source.name, timing.full_fps if timing else None, live=source.live
        )
        if self.recorder is not None:
            self.recorder.begin_stream(source)
        try:
            for frame in source.frames():
                if timing is not None:
                    self._follow_source(timing)
                self.pipeline.process(frame)
                if on_frame is not None:
                    on_frame(frame.index)
                self._maybe_publish_stats()
                if self._config_watch is not None and (changed := self._config_watch.poll()):
                    self.apply_config(changed)
                self._retry_held()
                if stop.is_set():
                    break
        finally:
            self.pipeline.end_stream("shutdown" if stop.is_set() else "stream_end")
            if self.recorder is not None:
                self.recorder.end_stream()
            source.close()
            self._source = None

    def _follow_source(self, timing: LiveTiming) -> None:
        """Copy what only the source knows: its stale drops, and its full rate (an RTSP
        camera's is measured as frames arrive, so it is unknown at the first frame)."""
        self.pipeline.stats.stale_dropped = timing.stale_dropped
        if self.governor is not None:
            self.governor.load_meter.full_fps = timing.full_fps

    def _retry_held(self) -> None:
        """Alerts held in memory on a full disk are written once a second until it has room."""
        now = time.monotonic()
        if now < self._next_held_retry or not self.outbox.held():
            return
        self._next_held_retry = now + HELD_RETRY_S
        if self.outbox.write_held() and self.link is not None:
            self.link.wake()

    def _policy_changed(self, policy: Policy) -> None:
        if self._source is not None:
            self._source.set_fps(policy.fps)
        self._publish_stats()

    def apply_config(self, config: RondaConfig) -> None:
        """Take a new configuration while running: masks and zones reach the frame loop at its
        next frame (the web page's editor, or the file changed by ``ronda web``); the other
        sections need a restart.  Safe from any thread."""
        update = {"motion": config.motion, "zones": config.zones}
        if self.config.model_copy(update=update) == self.config:
            return
        self.config = self.config.model_copy(update=update)
        self.pipeline.request_stages(stage_configs(self.config))
        if self.discovery is not None:
            self.discovery.set_zones(list(self.config.zones))
        for listener in self.on_config_change:
            listener(self.config)

    # -- stats -------------------------------------------------------------------------------
    def stats_payload(self) -> StatsPayload:
        """The retained stats message (``camera.stats_message``): the web page and ``ronda
        status`` read it back from the broker."""
        return gather_stats(
            config=self.config,
            pipeline=self.pipeline,
            detector=self.detector,
            governor=self.governor,
            outbox=self.outbox,
            events=self.events,
            recorder=self.recorder,
            controls=self.controls,
        )

    def _maybe_publish_stats(self) -> None:
        now = time.monotonic()
        if now >= self._next_stats:
            self._next_stats = now + self.config.mqtt.stats_interval_s
            self._publish_stats()

    def _publish_stats(self) -> None:
        if self.link is not None:
            self.link.put_state(self.topics.stats, json.dumps(self.stats_payload(), default=str))

    # -- shutdown ----------------------------------------------------------------------------
    def drain(self, timeout: float | None = None) -> int:
        """Wait for queued alerts to be acknowledged; returns how many are still queued.

        A second SIGINT/SIGTERM ends the wait at once (the rest stays queued on disk)."""
        if self.link is None:
            return 0
        self._publish_stats()
        self.link.wait_drained(self.config.mqtt.drain_timeout_s if timeout is None else timeout)
        return self.outbox.depth()

    def cancel_drain(self) -> None:
        """Stop waiting for acknowledgements now (a second SIGTERM/Ctrl-C during ``close``);
        what is undelivered stays in the outbox for the next run or ``ronda flush``."""
        if self.link is not None:
            self.link.cancel_drain()

    def close(self) -> int:
        """End open events, flush and disconnect; returns the alerts left queued on disk.

        Raises :class:`OutboxError` when alerts held in memory (a full disk) still cannot be
        written: the one failure that must not end quietly."""
        try:
            self.pipeline.end_stream("shutdown")
            if self.recorder is not None:  # closes the open clip (its post-roll is cut short)
                self.recorder.close()
            for sink in self.sinks:  # the alert sink's OFF states are then drained with the rest
                sink.close()
            unwritten = self.outbox.unwritten()
            if self.controls is not None:  # its last change saved and queued before the drain
                self.controls.stop()
            left = self.drain()
        finally:
            if self.link is not None:
                self.link.stop()
            self.dead_letters = self.outbox.dead.count()
            self.detector.close()
            self.database.close()
            self.state_lock.release()
        if unwritten is not None:
            raise OutboxError(unwritten)
        return left


def build_mqtt(
    config: RondaConfig, outbox: Outbox, topics: Topics, controls: Controls | None
) -> tuple[MqttLink, MqttAlertSink, DiscoveryPublisher | None]:
    """The broker link (not yet started), the alert sink on it, Home Assistant discovery, and
    the controls' command topics when this process is the camera."""
    link = MqttLink(
        config.mqtt,
        outbox,
        client_id=config.client_id,
        will_topic=topics.availability,
    )
    alert_sink = MqttAlertSink(link, outbox, topics)
    discovery = attach_discovery(
        link,
        config.mqtt.discovery,
        topics,
        config.camera.name,
        zones=list(config.zones),
    )
    if controls is not None:
        ControlTopics(link, topics, controls)
    return link, alert_sink, discovery


def stage_configs(config: RondaConfig) -> StageConfigs:
    """The sections the frame loop uses, taken from the whole configuration."""
    return StageConfigs(
        motion=config.motion,
        regions=config.regions,
        tracker=config.tracker,
        thumbnail=config.thumbnail,
        zones=dict(config.zones),
        night=config.night,
    )


def first_controls(config: RondaConfig) -> ControlState:
    """The controls' first values: the ``controls`` section, ``motion.sensitivity`` and each
    label's ``threshold`` (the state directory's saved choices win over them)."""
    return initial_state(
        armed=config.controls.armed,
        privacy=config.controls.privacy,
        recording=config.controls.recording,
        sensitivity=config.motion.sensitivity,
        thresholds={
            label: rule.threshold for label, rule in config.tracker.labels.by_label().items()
        },
    )


def replay_files(
    runtime: Runtime,
    sources: Iterable[FrameSource],
    stop: threading.Event,
    on_frame: Callable[[int], None] | None = None,
) -> None:
    """Replay recordings one after the other; events never span two files."""
    for source in sources:
        if stop.is_set():
            break
        log.info("replaying %s", source.name)
        runtime.run_source(source, stop, on_frame)

"""The retained ``<prefix>/stats`` message: what it carries and how it is gathered from the
running parts (the frame loop's counters, the detector, the governor, the outbox, the store, the
clips, the controls).  Published by ``camera.app.Runtime`` every ``mqtt.stats_interval_s`` and at
every policy change; read back by the web page, ``ronda status`` and the home page."""

from __future__ import annotations

import time

from camera.config import RondaConfig
from camera.controls import Controls
from camera.detect import Detector
from camera.detect.base import DetectorReport, detector_report
from camera.governor import Governor
from camera.governor.governor import GovernorSnapshot
from camera.night import LightDict
from camera.pipeline import Pipeline
from camera.pipeline.stats import PipelineCounters
from camera.record.recorder import ClipStats, Recorder
from camera.store import EventStore, Outbox, local_midnight
from camera.types import PolicyDict


class StatsPayload(PipelineCounters):
    """``Runtime.stats_payload()``: what the retained ``<prefix>/stats`` message carries."""

    camera: str
    time: float
    precision: str | None
    variant: str | None
    backend: str
    detector_backend: str
    """``cpu``, ``imx500`` or ``hailo``: where detection runs (Home Assistant's Detector)."""
    detector: DetectorReport
    policy: PolicyDict
    outbox_depth: int
    outbox_dropped: int
    dead_letters: int
    thumbnails_omitted: int
    events_today: int
    governor: GovernorSnapshot | None
    governor_level: str
    soc_temp_c: float | None
    battery_pct: float | None
    clips: ClipStats | None
    page: str | None
    """The camera's own page (``web.public_url``), for the home page's link; null without."""
    controls: dict[str, object] | None
    privacy: bool
    commands_refused: int
    light: LightDict
    """The scene's light (day, dark or infrared) and the readings behind it."""
    light_state: str
    """``light.state``, flat, for Home Assistant's value template."""


def gather_stats(
    *,
    config: RondaConfig,
    pipeline: Pipeline,
    detector: Detector,
    governor: Governor | None,
    outbox: Outbox,
    events: EventStore,
    recorder: Recorder | None,
    controls: Controls | None,
) -> StatsPayload:
    """The frame loop's counters, the detector, the governor, the outbox, the clips and the
    scene's light, one JSON document."""
    snapshot = governor.snapshot() if governor is not None else None
    readings = snapshot["readings"] if snapshot is not None else None
    return StatsPayload(
        **pipeline.stats.as_dict(),
        camera=config.camera.name,
        time=round(time.time(), 3),
        precision=detector.precision,
        variant=detector.variant,
        backend=detector.backend,
        detector_backend=detector.capabilities.kind,
        detector=detector_report(detector),
        policy=pipeline.policy.as_dict(),
        outbox_depth=outbox.depth(),
        outbox_dropped=outbox.dropped(),
        dead_letters=outbox.dead.count(),
        thumbnails_omitted=outbox.omitted(),
        events_today=events.count_since(local_midnight()),
        governor=snapshot,
        # Flat copies for Home Assistant's value templates (null when there is no sensor).
        governor_level=pipeline.policy.level,
        soc_temp_c=readings["soc_temp_c"] if readings is not None else None,
        battery_pct=readings["battery_pct"] if readings is not None else None,
        clips=recorder.stats() if recorder is not None else None,
        page=config.web.public_url if config.web.enabled else None,
        controls=controls.current.as_dict(time.time()) if controls else None,
        privacy=controls is not None and controls.current.privacy,
        commands_refused=controls.refused if controls else 0,
        light=pipeline.night.current.as_dict(),
        light_state=pipeline.night.current.state,
    )

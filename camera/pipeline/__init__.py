"""The frame loop: source -> motion -> regions -> detector -> tracker -> sinks."""

from camera.pipeline.loop import FrameOutcome, Pipeline
from camera.pipeline.rate import FrameRateLimiter
from camera.pipeline.sinks import EventSink, JsonlSink, StoreSink
from camera.pipeline.stats import PipelineStats

__all__ = [
    "EventSink",
    "FrameOutcome",
    "FrameRateLimiter",
    "JsonlSink",
    "Pipeline",
    "PipelineStats",
    "StoreSink",
]

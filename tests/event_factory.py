"""One hand-made event update for tests that need an ``EventUpdate`` without running the
pipeline (stores, links, web pages).  Fields added to the event JSON get their default here once,
instead of in every test that builds one."""

from __future__ import annotations

import dataclasses
from typing import Any

from camera.events import EventUpdate


def event_update(
    event_id: str = "e-0001",
    *,
    kind: str = "start",
    label: str = "person",
    sequence: int = 1,
    camera: str = "test",
    **changes: Any,
) -> EventUpdate:
    """A plausible update; ``changes`` override any field by name."""
    update = EventUpdate(
        id=event_id,
        camera=camera,
        type=kind,
        label=label,
        subclass=label,
        score=0.8,
        box=[1, 2, 30, 40],
        frame_time=float(sequence),
        start_time=1.0,
        end_time=2.0 if kind == "end" else None,
        thumbnail_topic=f"ronda/{camera}/events/{event_id}/thumbnail",
        has_thumbnail=kind != "end",
        model_precision="int8",
        motion_only=False,
        source="test",
        sequence=sequence,
        camera_name=camera,
        start_local="2024-01-05T21:04:03+01:00",
        end_local="2024-01-05T21:04:04+01:00" if kind == "end" else None,
        label_idle_s=None,
        previous_label=None,
    )
    return dataclasses.replace(update, **changes)

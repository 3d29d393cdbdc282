"""The owner's controls: armed, snooze, privacy, recording, motion sensitivity and the per-label
alert thresholds (docs/controls.md).

One small state object (``ControlState``) owned by the runtime, changed only through
``Controls.change`` (MQTT command topics and the web page both call it), persisted in the state
directory and read by the frame loop at its next frame, as it reads a governor policy.
"""

from camera.controls.hub import Controls
from camera.controls.state import (
    CONTROL_NAMES,
    ControlError,
    ControlState,
    Suppression,
    initial_state,
)

__all__ = [
    "CONTROL_NAMES",
    "ControlError",
    "ControlState",
    "Controls",
    "Suppression",
    "initial_state",
]

"""The ``controls:`` section: the first value of the owner's switches.

Only the first value: once the camera has run, the state directory's ``controls.json`` holds
what the owner last chose (from Home Assistant, MQTT or the web page) and wins over this file,
so a reboot never silently re-arms or disarms.  Motion sensitivity and the alert thresholds
start from ``motion.sensitivity`` and ``tracker.labels.<label>.threshold``.
"""

from __future__ import annotations

from camera.section import Section


class ControlsConfig(Section):
    """First values of the owner's controls (docs/controls.md); the state directory keeps the
    owner's later choices, and they win over these."""

    armed: bool = True
    """Alerts are published (false: events are stored and recorded, phones stay quiet)."""
    privacy: bool = False
    """No frame is processed, nothing recorded, the live view is off."""
    recording: bool = True
    """Event clips are recorded (when ``clips.enabled``)."""

"""The owner's controls on MQTT: command topics in, retained state out (docs/controls.md).

Each control listens on ``<prefix>/<control>/set`` only: exact topics under the camera's own
prefix, never a wildcard, so nothing else on the broker can reach it.  The handler runs on the
link's thread and only calls ``Controls.change`` (a validation and a swap, microseconds): the
frame loop never waits for a command.  State goes out retained through ``put_state`` (latest
value wins, re-sent on every connect): one topic per control for Home Assistant and the home
page, plus ``<prefix>/controls`` with everything in one JSON.  A refused command leaves its
reason retained on ``<prefix>/controls/error``.
"""

from __future__ import annotations

import contextlib
import functools
import json

from camera.controls import CONTROL_NAMES, ControlError, Controls, ControlState
from camera.controls.hub import Refusal
from camera.mqtt.link import MqttLink
from camera.mqtt.topics import Topics

MAX_COMMAND_BYTES = 256
"""The longest payload any control accepts is a few characters; a larger one is refused unread."""


class ControlTopics:
    """See the module docstring."""

    def __init__(self, link: MqttLink, topics: Topics, controls: Controls) -> None:
        self.link = link
        self.topics = topics
        self.controls = controls
        for control in CONTROL_NAMES:
            link.subscribe(
                topics.control_command(control), functools.partial(self._command, control),
                retained=False,
            )  # fmt: skip
        controls.listeners.append(self.publish)
        controls.on_refused.append(self.refused)

    def _command(self, control: str, payload: bytes) -> None:
        if not payload:
            return  # an empty message is how a retained command is cleared, not a command
        if len(payload) > MAX_COMMAND_BYTES:
            text = f"<{len(payload)} bytes>"
        else:
            text = payload.decode("utf-8", "replace")
        with contextlib.suppress(ControlError):  # logged and published by the controls
            self.controls.change(control, text, source="mqtt")

    def publish(self, state: ControlState, now: float) -> None:
        """Every control's retained state (called on the controls' thread)."""
        for control in CONTROL_NAMES:
            self.link.put_state(self.topics.control_state(control), state.value(control, now))
        self.link.put_state(self.topics.controls, json.dumps(state.as_dict(now), sort_keys=True))

    def refused(self, refusal: Refusal) -> None:
        self.link.put_state(self.topics.controls_error, json.dumps(refusal.as_dict()))

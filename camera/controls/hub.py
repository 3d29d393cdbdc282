"""``Controls``: the one owner of the control state, and the one function that changes it.

Every entry point calls ``change`` (the MQTT command topics from the link's thread, the web
page from its event loop): it validates the payload and swaps the immutable state under a lock,
nothing more, so a command costs microseconds and never waits for a disk or a socket.  The frame
loop reads ``current`` at its next frame (one attribute read, no lock).  Saving the state file
and telling listeners (the retained MQTT state) happen on the controls' own thread, which
coalesces: a flood of 1,000 commands in a second is a handful of file writes, not 1,000.  The
same thread ends a snooze when its time is up and counts its minutes down for Home Assistant.

A refused payload is logged (one line; a flood of them at most one line a second plus a count)
and handed to the ``on_refused`` listeners (a retained error on MQTT) by the same thread, the
latest one of a burst only.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from camera.controls.state import ControlError, ControlState, change
from camera.files import UnusableFile, describe_os_error, read_small

log = logging.getLogger(__name__)

STATE_FILE = "controls.json"
MAX_FILE_BYTES = 64 * 1024
REFUSAL_LOG_S = 1.0
"""At most one log line per this many seconds about refused commands (a flood is summed up)."""
COALESCE_S = 0.05
"""After telling the listeners, the controls' thread waits this long before it looks again: a
burst of commands is saved and published once per 50 ms, while the first command after a quiet
spell goes out at once (the frame loop never waits for it: it reads ``current``)."""

Listener = Callable[[ControlState, float], None]


@dataclass(frozen=True, slots=True)
class Refusal:
    """A command that was not applied: published as the retained ``<prefix>/controls/error``."""

    control: str
    payload: str
    source: str
    reason: str
    time: float

    def as_dict(self) -> dict[str, object]:
        return {
            "control": self.control,
            "payload": self.payload[:100],
            "source": self.source,
            "error": self.reason,
            "time": round(self.time, 3),
        }


class Controls:
    """See the module docstring.  ``first``: the configuration's values, used for every control
    the state file does not hold."""

    def __init__(
        self, first: ControlState, state_dir: Path, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.path = state_dir / STATE_FILE
        self.clock = clock
        self._state = load_state(self.path, first)
        self._lock = threading.Lock()
        self._version = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.listeners: list[Listener] = []
        """Called on the controls' thread with every new state (and each snooze minute)."""
        self.on_refused: list[Callable[[Refusal], None]] = []
        """Called on the controls' thread with the latest refused command."""
        self._refusal: Refusal | None = None
        self.applied = 0
        self.refused = 0
        self._unlogged = 0
        self._next_log = 0.0
        self._write_failed = False

    @property
    def current(self) -> ControlState:
        """The state now: the frame loop reads this at every frame."""
        return self._state

    # -- the one way in ----------------------------------------------------------------------
    def change(self, control: str, payload: str, source: str) -> ControlState:
        """Apply one command; ``ControlError`` (one line) when ``payload`` is not valid for
        ``control``, after logging it and telling ``on_refused``.  Safe from any thread."""
        now = self.clock()
        with self._lock:
            try:
                new = change(self._state, control, payload, now)
            except ControlError as error:
                self.refused += 1
                refusal = self._refusal = Refusal(control, payload, source, str(error), now)
            else:
                self.applied += 1
                if new != self._state:
                    self._state = new
                    self._version += 1
                    self._wake.set()
                return new
        self._log_refusal(refusal)
        self._wake.set()
        raise ControlError(refusal.reason)

    def _log_refusal(self, refusal: Refusal) -> None:
        now = time.monotonic()
        if now < self._next_log:
            self._unlogged += 1
            return
        self._next_log = now + REFUSAL_LOG_S
        more = f" ({self._unlogged} more refused since the last line)" if self._unlogged else ""
        self._unlogged = 0
        log.warning(
            "control %s: command %r from %s ignored: %s%s",
            refusal.control,
            refusal.payload[:40],
            refusal.source,
            refusal.reason,
            more,
        )

    # -- the controls' thread ----------------------------------------------------------------
    def start(self) -> None:
        """Publish the state once, then follow every change."""
        self._thread = threading.Thread(target=self._run, name="ronda-controls", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Save and publish what is pending, then end the thread."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        seen = -1
        minutes = -1
        while True:
            now = self.clock()
            state = self._expire_snooze(now)
            with self._lock:
                version = self._version
            told = False
            if version != seen or state.snooze_minutes(now) != minutes:
                if version != seen:
                    self._save(state)
                seen, minutes = version, state.snooze_minutes(now)
                told = self._tell(self.listeners, state, now)
            with self._lock:
                refusal, self._refusal = self._refusal, None
            if refusal is not None:
                told = self._tell(self.on_refused, refusal)
            if self._stop.is_set():
                return
            if told:
                self._stop.wait(COALESCE_S)
            self._wake.wait(_next_tick(state, now))
            self._wake.clear()

    @staticmethod
    def _tell(listeners: list[Callable[..., None]], *args: object) -> bool:
        for listener in listeners:
            try:
                listener(*args)
            except Exception:
                log.exception("controls: a listener failed")
        return True

    def _expire_snooze(self, now: float) -> ControlState:
        """A snooze whose time is up is over: forgotten, so the saved state says so too."""
        with self._lock:
            state = self._state
            if state.snooze_until is not None and now >= state.snooze_until:
                state = self._state = replace(state, snooze_until=None)
                self._version += 1
                log.info("controls: the snooze is over, alerts are back")
            return state

    def _save(self, state: ControlState) -> None:
        """Write the state file atomically; a failure is logged once and the camera goes on
        (the state holds in memory, and the next change tries again)."""
        temporary = self.path.with_suffix(".tmp")
        try:
            temporary.write_text(json.dumps(state.to_file(), sort_keys=True) + "\n")
            os.replace(temporary, self.path)
        except OSError as error:
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)
            if not self._write_failed:
                log.error(
                    "controls: cannot save %s (%s); the state holds until Ronda stops",
                    self.path,
                    describe_os_error(error),
                )
            self._write_failed = True
            return
        self._write_failed = False


def _next_tick(state: ControlState, now: float) -> float | None:
    """Seconds until the snooze's minutes count changes (None: nothing to count)."""
    if not state.snoozed(now) or state.snooze_until is None:
        return None
    left = state.snooze_until - now
    return max(0.05, left - 60 * (state.snooze_minutes(now) - 1))


def load_state(path: Path, first: ControlState) -> ControlState:
    """The saved state over the first values; a missing file is the first start, a damaged one
    is logged and the first values are used (a control must never stop the camera)."""
    if not path.exists():
        return first
    try:
        data = json.loads(read_small(path, MAX_FILE_BYTES))
    except (UnusableFile, ValueError) as error:
        reason = str(error)
        log.warning("controls: cannot read %s (%s); starting from the configuration", path, reason)
        return first
    if not isinstance(data, dict):
        log.warning("controls: %s is not a JSON object; starting from the configuration", path)
        return first
    state = first.from_file(data)
    log.info(
        "controls: restored from %s: %s", path, json.dumps(state.as_dict(time.time()), default=str)
    )
    return state

"""The socket side of the link: paho's external-loop API driven by our own select(), and the
pause between connection attempts.

Why our own select() rather than ``paho.loop()``: it also watches a wake socket, so a new alert
queued by the frame loop is published within a millisecond or two instead of at the next poll
timeout.  Why not ``loop_start`` with paho's automatic reconnect: it hides *why* a connection
failed (an untrusted certificate, a refused password and a broker that is down all look the same),
and the owner needs one clear line for each (see ``camera.mqtt.wording``).
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import ssl
import threading

import paho.mqtt.client as paho
from paho.mqtt.enums import MQTTErrorCode

from camera.sources.backoff import Backoff

log = logging.getLogger("camera.mqtt.link")


class Transport:
    """One paho client, its socket and a wake socket beside it.  Only the link's own thread
    calls ``loop_once``/``drop``; any thread may call ``wake``."""

    def __init__(self, client: paho.Client) -> None:
        self.client = client
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)

    def wake(self) -> None:
        """Interrupt the select() now (a new alert, new state, a stop)."""
        with contextlib.suppress(OSError):  # full (already woken) or closed (stopped)
            self._wake_w.send(b"!")

    def loop_once(self, timeout: float) -> MQTTErrorCode:
        """One turn of paho's documented external loop (``loop_read``/``loop_write``/
        ``loop_misc``) around a select() that also watches the wake socket."""
        client = self.client
        sock = client.socket()
        if sock is None:
            return MQTTErrorCode.MQTT_ERR_NO_CONN
        pending = sock.pending() if isinstance(sock, ssl.SSLSocket) else 0  # TLS-buffered bytes
        writers = [sock] if client.want_write() else []
        try:
            readable, writable, _ = select.select(
                [sock, self._wake_r], writers, [], 0.0 if pending else timeout
            )
        except (OSError, ValueError, TypeError):  # the socket was closed under us
            return MQTTErrorCode.MQTT_ERR_CONN_LOST
        if self._wake_r in readable:
            with contextlib.suppress(BlockingIOError):
                self._wake_r.recv(4096)
        if sock in readable or pending:
            rc = client.loop_read()
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                return rc
            if client.socket() is None:
                return MQTTErrorCode.MQTT_ERR_CONN_LOST
        if sock in writable or client.want_write():
            rc = client.loop_write()
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                return rc
        return client.loop_misc()

    def drop(self) -> None:
        """Close the socket without a DISCONNECT (so the broker publishes the Last Will, as it
        would for a real failure); paho keeps the unacknowledged messages for the next connect."""
        sock = self.client.socket()
        if sock is not None:
            try:
                sock.close()
            except OSError as error:
                log.debug("closing the MQTT socket: %s", error)

    def close(self) -> None:
        self._wake_r.close()
        self._wake_w.close()
        try:
            self.client.disconnect()
        except (OSError, ValueError) as error:
            log.debug("disconnect: %s", error)


class ReconnectTimer:
    """Exponential backoff between connection attempts that ``retry_now`` or ``stop`` cut short.

    A replay that ends while the link sleeps a long backoff (up to ``reconnect_max_s``) must not
    spend its whole drain timeout asleep while the broker is back: the drain calls
    ``retry_now``, which ends the sleep and starts the backoff again from its minimum."""

    def __init__(self, minimum_s: float, maximum_s: float) -> None:
        self._interrupt = threading.Event()
        self._stopped = False
        self._backoff = Backoff(minimum_s, maximum_s, self._interrupt)

    def wait(self) -> None:
        """Sleep the next delay, or less if interrupted."""
        if not self._backoff.wait() and not self._stopped:
            self._interrupt.clear()

    def reset(self) -> None:
        self._backoff.reset()

    def retry_now(self) -> None:
        self._backoff.reset()
        self._interrupt.set()

    def stop(self) -> None:
        self._stopped = True
        self._interrupt.set()

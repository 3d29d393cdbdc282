"""What the owner reads when the broker link has a problem: one line each, logged once.

The wording lives apart from the link so that every message can be checked without a broker,
and so that ``ronda doctor`` (which maps these lines to fixes) and the link agree on one text.
Nothing here ever sees the MQTT password: messages name where it came from, not what it is.
"""

from __future__ import annotations

import logging
import socket
import ssl

log = logging.getLogger("camera.mqtt.link")


def connect_failure(error: OSError, broker: str, host: str) -> str:
    """The line for an exception raised while opening the connection (TCP or TLS)."""
    if isinstance(error, ssl.SSLCertVerificationError):
        return (
            f"TLS: the certificate of broker {broker} is not trusted "
            f"({error.verify_message}); check mqtt.tls.ca_file"
        )
    if isinstance(error, ssl.SSLError):
        return (
            f"TLS handshake with broker {broker} failed: {getattr(error, 'reason', None) or error}"
        )
    if isinstance(error, socket.gaierror):
        return f"MQTT broker host {host!r} cannot be resolved"
    if isinstance(error, ConnectionRefusedError):
        return f"MQTT broker {broker} refused the connection (is it running?)"
    if isinstance(error, TimeoutError):
        return f"MQTT broker {broker} did not answer (timeout)"
    return f"MQTT broker {broker} is unreachable: {error.strerror or error}"


def login_refused(broker: str, reason: object, username: str | None, password_source: str) -> str:
    return (
        f"MQTT broker {broker} refused the login: {reason} "
        f"(user {username or '(none)'}, password from {password_source})"
    )


def closed_during_login(broker: str, detail: str, *, tls: bool, client_certificate: bool) -> str:
    """The socket opened but the broker hung up before answering the login: say why."""
    hint = ""
    if "CERTIFICATE_REQUIRED" in detail.upper().replace(" ", "_"):
        hint = "; the broker requires a client certificate: set mqtt.tls.cert_file and key_file"
    elif tls and not client_certificate:
        # TLS 1.3 reports a missing client certificate after the handshake, often as a bare
        # EOF: the likeliest cause with TLS and no certificate configured.
        hint = "; if the broker requires a client certificate, set mqtt.tls.cert_file and key_file"
    return f"MQTT broker {broker} closed the connection during the login ({detail}){hint}"


def login_unanswered(broker: str, timeout_s: float) -> str:
    return (
        f"MQTT broker {broker} accepted the connection but did not answer the login within "
        f"{timeout_s:.0f} s"
    )


def acknowledgements_stalled(broker: str, waited_s: float, in_flight: int) -> str:
    return (
        f"no acknowledgement from MQTT broker {broker} for {waited_s:.0f} s with {in_flight} "
        "alert message(s) in flight: the connection is dead; reconnecting"
    )


class Reporter:
    """Logs a connection problem once; identical repeats during one outage go to debug.

    ``last`` is the problem still standing (``None`` once connected), which ``ronda flush``,
    ``doctor`` and the exit-code-3 line quote as the reason alerts are still queued."""

    def __init__(self) -> None:
        self.last: str | None = None

    def report(self, message: str) -> None:
        if message != self.last:
            log.error("%s; retrying with backoff", message)
        else:
            log.debug("%s (still)", message)
        self.last = message

    def clear(self) -> None:
        self.last = None

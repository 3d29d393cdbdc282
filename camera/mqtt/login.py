"""The connection attempts as the owner hears of them: one line per problem, logged once.

The link tells ``Login`` what happened at each step of an attempt (the socket would not open,
the broker refused the login, it hung up during the login, it never answered); ``Login`` picks
the line (``camera.mqtt.wording``) with what it learnt on the way: paho's last error (a TLS
alert behind a dropped connection) and whether the broker already said why it refused.
``problem`` is the one still standing, ``None`` once connected.
"""

from __future__ import annotations

import logging

import paho.mqtt.client as paho
from paho.mqtt.enums import MQTTErrorCode

from camera.mqtt import wording
from camera.mqtt.config import MqttConfig

log = logging.getLogger("camera.mqtt.link")  # one of the link's parts, as the owner reads it


class Login:
    """See the module docstring.  The link's network thread only."""

    def __init__(self, config: MqttConfig, broker: str) -> None:
        self.config = config
        self.broker = broker
        self._reporter = wording.Reporter()
        self._paho_error: str | None = None
        self._refused = False
        self._ever_accepted = False

    @property
    def problem(self) -> str | None:
        return self._reporter.last

    def attempt(self) -> None:
        """A new attempt: forget what the last one learnt."""
        self._paho_error = None
        self._refused = False

    def accepted(self, queued: int) -> bool:
        """The broker accepted the login: say so (``reconnected`` after any problem), forget
        the problem; True when this is a reconnection."""
        again = self._ever_accepted or self.problem is not None
        reconnection, self._ever_accepted = self._ever_accepted, True
        self._reporter.clear()
        log.info(
            "%s MQTT broker %s%s",
            "reconnected to" if again else "connected to",
            self.broker,
            f"; delivering {queued} queued message(s)" if queued else "",
        )
        return reconnection

    def cannot_connect(self, error: OSError) -> None:
        self._reporter.report(wording.connect_failure(error, self.broker, self.config.host))

    def refused(self, reason: object) -> None:
        """The broker said why (CONNACK): no "closed during the login" after it."""
        self._refused = True
        _, source = self.config.resolve_password()
        self._reporter.report(
            wording.login_refused(self.broker, reason, self.config.username, source)
        )

    def closed(self, rc: MQTTErrorCode) -> None:
        """The connection ended before the login was accepted (a TLS alert for a missing client
        certificate looks like this), unless the broker already said why."""
        if self._refused:
            return
        tls = self.config.tls
        detail = self._paho_error or paho.error_string(rc)
        self._reporter.report(
            wording.closed_during_login(
                self.broker, detail, tls=tls.enabled, client_certificate=tls.cert_file is not None
            )
        )

    def unanswered(self) -> None:
        self._reporter.report(wording.login_unanswered(self.broker, self.config.ack_timeout_s))

    def paho_log(self, level: int, text: str) -> None:
        """Keep paho's last error for the report; its messages never contain the password."""
        if level == paho.MQTT_LOG_ERR:
            self._paho_error = text

"""``ronda web`` has no frame loop of its own: its status shows the service's last stats message,
retained on the broker, asked for only when someone looks and at most once a minute."""

from __future__ import annotations

import json
import threading
import time

from camera.config import RondaConfig

CACHE_S = 60.0
TIMEOUT_S = 2.0


class BrokerStats:
    """A stats provider for the web context: the retained payload (``Runtime.stats_payload()``
    as the service published it) plus ``stats_problem`` when there is none."""

    def __init__(self, config: RondaConfig, timeout_s: float = TIMEOUT_S) -> None:
        self.config = config
        self.timeout_s = timeout_s
        self._lock = threading.Lock()
        self._cached: dict[str, object] = {}
        self._until = 0.0

    def __call__(self) -> dict[str, object]:
        from camera.mqtt.probe import fetch_retained_stats

        with self._lock:
            if time.monotonic() < self._until:
                return self._cached
            config = self.config
            stats = fetch_retained_stats(
                config.mqtt, config.client_id, config.topic_prefix, self.timeout_s
            )
            payload: dict[str, object] = {}
            if stats.payload is not None:
                try:
                    loaded = json.loads(stats.payload)
                    payload = loaded if isinstance(loaded, dict) else {}
                except ValueError:
                    payload = {"stats_problem": "unreadable stats message on the broker"}
            else:
                payload = {"stats_problem": stats.problem}
            self._cached, self._until = payload, time.monotonic() + CACHE_S
            return payload

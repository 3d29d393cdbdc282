"""Topic names, in one place, so the publisher, discovery and tests agree."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Topics:
    prefix: str

    @property
    def availability(self) -> str:
        return f"{self.prefix}/availability"

    @property
    def events(self) -> str:
        return f"{self.prefix}/events"

    def thumbnail(self, event_id: str) -> str:
        return f"{self.prefix}/events/{event_id}/thumbnail"

    def label_state(self, label: str) -> str:
        return f"{self.prefix}/{label}"

    def label_snapshot(self, label: str) -> str:
        return f"{self.prefix}/{label}/snapshot"

    @property
    def stats(self) -> str:
        return f"{self.prefix}/stats"

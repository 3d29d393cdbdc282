"""Topic names, in one place, so the publisher, discovery and tests agree, and checked where
they are made.

MQTT forbids ``+`` and ``#`` (wildcards) and NUL in a topic a message is published to, and
limits a topic to 65,535 bytes of UTF-8.  A prefix that breaks a rule would make every alert
unpublishable; it is refused when ``Topics`` is built (the configuration reports it first), and
any topic the outbox is asked to carry is checked again by ``check_topic``.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_TOPIC_BYTES = 65_535
"""MQTT's limit: the topic length is a two-byte integer."""
LONGEST_SUFFIX_BYTES = 200
"""Room kept after the prefix for ``/events/<event id>/thumbnail`` and discovery topics."""


class TopicError(ValueError):
    """A topic MQTT would refuse (one user-facing line)."""


def topic_problem(topic: str) -> str | None:
    """Why MQTT would refuse ``topic`` as a publish topic, or ``None`` when it is fine."""
    if not topic:
        return "it is empty"
    for char, name in (("+", "'+'"), ("#", "'#'"), ("\0", "a NUL character")):
        if char in topic:
            return f"it contains {name} (MQTT wildcards and NUL cannot be published to)"
    try:
        size = len(topic.encode("utf-8"))
    except UnicodeEncodeError:
        return "it is not valid UTF-8 text"
    if size > MAX_TOPIC_BYTES:
        return f"it is {size} bytes long (MQTT allows {MAX_TOPIC_BYTES})"
    return None


def check_topic(topic: str) -> str:
    """``topic`` if MQTT accepts it; else ``TopicError`` saying why."""
    problem = topic_problem(topic)
    if problem is not None:
        raise TopicError(f"MQTT topic {topic[:80]!r} cannot be used: {problem}")
    return topic


@dataclass(frozen=True, slots=True)
class Topics:
    prefix: str

    def __post_init__(self) -> None:
        problem = topic_problem(self.prefix)
        room = MAX_TOPIC_BYTES - LONGEST_SUFFIX_BYTES
        if problem is None and len(self.prefix.encode()) > room:
            problem = f"it leaves no room for the topics under it (at most {room} bytes)"
        if problem is not None:
            raise TopicError(f"MQTT topic prefix {self.prefix[:80]!r} cannot be used: {problem}")

    @property
    def availability(self) -> str:
        return f"{self.prefix}/availability"

    @property
    def events(self) -> str:
        return f"{self.prefix}/events"

    def thumbnail(self, event_id: str) -> str:
        return check_topic(f"{self.prefix}/events/{event_id}/thumbnail")

    def label_state(self, label: str) -> str:
        return f"{self.prefix}/{label}"

    def label_snapshot(self, label: str) -> str:
        return f"{self.prefix}/{label}/snapshot"

    def zone_occupancy(self, zone: str, label: str) -> str:
        return f"{self.prefix}/zones/{zone}/{label}"

    @property
    def stats(self) -> str:
        return f"{self.prefix}/stats"

    def control_state(self, control: str) -> str:
        """Retained state of an owner's control (``armed``, ``snooze``, ``threshold/person``)."""
        return f"{self.prefix}/{control}"

    def control_command(self, control: str) -> str:
        return f"{self.prefix}/{control}/set"

    @property
    def controls(self) -> str:
        """Retained JSON of every control (``snooze_until`` included)."""
        return f"{self.prefix}/controls"

    @property
    def controls_error(self) -> str:
        """Retained JSON of the last refused command."""
        return f"{self.prefix}/controls/error"


# -- what a topic or an MQTT string may be ---------------------------------------------------------
MAX_PREFIX_BYTES = 200
"""A prefix this long keeps the longest topic Ronda makes (``<prefix>/events/<id>/thumbnail``)
under 256 bytes, the limit of the strictest brokers (AWS IoT); MQTT itself allows 65,535."""
MAX_CLIENT_ID_BYTES = 256
"""MQTT 3.1.1 only obliges brokers to accept 23; mosquitto takes far more.  256 leaves room for
any readable name and refuses a pasted blob before a broker does."""
MAX_STRING_BYTES = 65_535
"""The longest UTF-8 string an MQTT packet can carry (user name, password)."""
MAX_HOST_CHARS = 253
"""The longest DNS name."""


def check_topic_prefix(prefix: str) -> str:
    """Raise ``ValueError`` unless every topic made from ``prefix`` can be published.

    ``+`` and ``#`` are subscription wildcards: a broker refuses a publish to a topic holding
    them, so every alert made with such a prefix would be refused forever.  A leading ``$`` is
    reserved for the broker (``$SYS``); a trailing ``/`` would make an empty topic level.
    """
    problem = topic_problem(prefix.strip("/"))
    if problem is not None:
        raise ValueError(problem.removeprefix("it "))
    if prefix.startswith("$"):
        raise ValueError("starts with '$', which brokers reserve for themselves ($SYS)")
    if prefix.endswith("/"):
        raise ValueError("ends with '/' (an empty topic level)")
    check_length(prefix, MAX_PREFIX_BYTES)
    return prefix


def check_length(text: str, limit: int) -> str:
    """Raise ``ValueError`` if ``text`` is longer than ``limit`` bytes of UTF-8 (MQTT counts
    bytes, not characters: an accented letter takes two)."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > limit:
        raise ValueError(f"is {size:,} bytes long in UTF-8; at most {limit:,} fit")
    return text

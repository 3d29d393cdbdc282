"""The sections of the sites built on this kit: ``web:`` (where a page listens, its TLS and
login rules: the camera's page and the home page alike) and ``home:`` (what the home page
shows and how it follows the cameras on the broker, read by ``ronda home`` only).

They live here, beside the kit and below every page, so that a camera's configuration
(``camera.config``) composes them without importing a page: the home page runs from the same
kind of file as a camera (``mqtt:``, ``web:``, ``store:``, ``home:``), and one file can serve both.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator, model_validator

from camera.mqtt.topics import check_topic_prefix
from camera.section import Section
from camera.site.clients import Network, parse_networks


class WebConfig(Section):
    """The page ``ronda run`` serves (and ``ronda web`` when browsing a state directory)."""

    enabled: bool = True
    """Serve the page from ``ronda run``.  It listens on localhost only until a password is set
    with ``ronda web passwd``."""
    host: str = Field("0.0.0.0", min_length=1, max_length=255)
    """Address to listen on once a password is set (``0.0.0.0``: every interface)."""
    port: int = Field(8080, ge=1, le=65535)
    """TCP port of the page (``http://<camera>:8080/``)."""
    public_url: str | None = Field(None, max_length=2048)
    """The address owners reach the page at (``https://cam.home.lan``), used in links sent to
    phones (clip and event URLs); null: links are not sent."""
    allow_health_without_login: bool = False
    """Let monitoring read ``/api/health`` without a session (status only: no images, no events'
    pictures, no configuration)."""
    tls_cert: Path | None = None
    """PEM certificate (chain) for HTTPS; null: plain HTTP (put a reverse proxy in front)."""
    tls_key: Path | None = None
    """PEM private key of ``tls_cert``."""
    live_fps: float = Field(2.0, gt=0, le=5)
    """Live view frames per second at most.  The frame loop hands over a small copy this often,
    and only while somebody watches."""
    live_width: int = Field(640, ge=160, le=1920)
    """Width of the live image in pixels (the height follows the camera's aspect ratio)."""
    session_hours: float = Field(168.0, gt=0, le=8760)
    """A login lasts this long (a week by default), then the page asks again."""
    login_attempts: int = Field(5, ge=1, le=100)
    """Wrong passwords allowed per client address within ``login_window_s`` before the login
    is refused for the rest of that window."""
    login_window_s: float = Field(300.0, gt=0, le=86400)
    """The window, in seconds, over which wrong passwords are counted."""
    trusted_proxies: list[str] = Field(default_factory=list, max_length=64)
    """Addresses or networks of the reverse proxies in front of the page (``127.0.0.1`` when
    the proxy runs on the Pi).  Their ``X-Forwarded-For`` names the client, so the login
    throttle counts each client and not the proxy; from anyone else the header is ignored."""

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, entries: list[str]) -> list[str]:
        parse_networks(entries)
        return entries

    @property
    def trusted_proxy_networks(self) -> list[Network]:
        return parse_networks(self.trusted_proxies)

    @field_validator("public_url")
    @classmethod
    def _check_url(cls, url: str | None) -> str | None:
        if url is None:
            return None
        if not url.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return url.rstrip("/")

    @model_validator(mode="after")
    def _check_tls_pair(self) -> WebConfig:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together: set both or neither")
        for path in (self.tls_cert, self.tls_key):
            if path is not None and not path.expanduser().is_file():
                raise ValueError(f"TLS file {path} does not exist")
        return self

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None

    def link(self, path: str) -> str | None:
        """An absolute link for messages sent to phones, or None without ``public_url``."""
        return f"{self.public_url}{path}" if self.public_url else None


SHARE_GROUP_PATTERN = r"^[A-Za-z0-9_-]{1,48}$"


def check_camera_filter(pattern: str) -> str:
    """A camera prefix, or one with a single ``+`` level standing for any camera's name."""
    if pattern.count("+") > 1 or "#" in pattern:
        raise ValueError("may hold one '+' level (any camera) and no '#'")
    levels = pattern.split("/")
    if "+" in pattern and "+" not in levels:
        raise ValueError("'+' must be a whole topic level (ronda/+)")
    check_topic_prefix(pattern.replace("+", "camera"))
    return pattern


class HomeConfig(Section):
    """One page for every camera in the house: ``ronda home``."""

    cameras: list[str] = Field(default_factory=lambda: ["ronda/+"], min_length=1, max_length=32)
    """Topic prefixes of the cameras to show; ``+`` stands for any one camera's name, so the
    default finds every camera left at its default ``mqtt.topic_prefix`` (``ronda/<name>``)."""
    topic_prefix: str = "ronda-home"
    """Where the home's own retained state and whole-home commands live
    (``<prefix>/armed/set``, ``<prefix>/snooze/set``); outside ``ronda/`` so that no camera
    filter ever takes the home for a camera."""
    client_id: str = Field("ronda-home", min_length=1, max_length=200)
    """The MQTT client id, which names the broker's persistent session: events published while
    the page is down wait there.  Two copies side by side need different ids."""
    share_group: str | None = Field(None, pattern=SHARE_GROUP_PATTERN)
    """Receive events through the shared subscription ``$share/<group>/...``: copies in the
    same group (one ``store.path``) get each event once between them (docs/home.md)."""
    session_expiry_h: float = Field(168.0, gt=0, le=8760)
    """How long the broker keeps the session (and queues events) while the page is down."""
    keep_events: int = Field(5000, ge=10, le=1_000_000)
    """Events kept in the home's own store (oldest deleted first, with their thumbnails)."""
    timeline: int = Field(60, ge=5, le=500)
    """Events shown on the page, newest first."""
    discovery: bool = True
    """Announce the whole-home switch and snooze to Home Assistant (``mqtt.discovery.prefix``)."""

    @field_validator("cameras")
    @classmethod
    def _filters(cls, patterns: list[str]) -> list[str]:
        return [check_camera_filter(pattern) for pattern in patterns]

    @field_validator("topic_prefix")
    @classmethod
    def _prefix(cls, prefix: str) -> str:
        return check_topic_prefix(prefix)

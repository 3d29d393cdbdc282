"""Configuration of the camera's web page (``web:``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator, model_validator

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

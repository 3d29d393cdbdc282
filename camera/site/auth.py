"""Who may see the page: the password file, sessions with their CSRF tokens, login throttling.

- The password is stored as an argon2id hash (argon2-cffi) in ``<state dir>/web-password``,
  mode 0600, never the password itself.  Parameters are OWASP's minimum for argon2id (19 MiB,
  2 passes, 1 lane): memory-hard against GPU guessing, yet a login costs a Pi Zero 2 W (512 MB)
  only 19 MiB for a fraction of a second.  The file is read at every login, so
  ``ronda web passwd`` takes effect without a restart.
- Sessions live in memory (a restart logs everyone out): a random token in an ``HttpOnly``,
  ``SameSite=Strict`` cookie, and a second random token per session that every change must
  carry (CSRF).
- Wrong passwords are counted per client address (and in total, against a spread attack);
  past the limit a login is refused with the time to wait, without even checking the password.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

if TYPE_CHECKING:
    from camera.site.clients import Network
    from camera.site.config import WebConfig

log = logging.getLogger(__name__)

PASSWORD_FILE = "web-password"
MIN_PASSWORD_LENGTH = 8
MAX_SESSIONS = 64
MAX_TRACKED_CLIENTS = 1024
"""Addresses with recent wrong passwords kept at most (a scan from many addresses cannot grow
the memory without bound; the total limit still applies)."""
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


class PasswordError(Exception):
    """The password cannot be set or read (one user-facing line, never the password)."""


class PasswordFile:
    """The argon2id hash of the web password, in the state directory."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / PASSWORD_FILE

    def is_set(self) -> bool:
        return self.path.is_file() and self.path.stat().st_size > 0

    def set(self, password: str) -> None:
        if len(password) < MIN_PASSWORD_LENGTH:
            raise PasswordError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
        digest = _HASHER.hash(password)
        temporary = self.path.with_name(self.path.name + ".tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w", encoding="ascii") as handle:
                handle.write(digest + "\n")
            _same_owner_as(temporary, self.path.parent)
            temporary.replace(self.path)
        except OSError as error:
            raise PasswordError(f"cannot write {self.path}: {error.strerror}") from None

    def verify(self, password: str) -> bool:
        """True for the right password; False for a wrong one or when none is set."""
        try:
            digest = self.path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            return False
        try:
            return _HASHER.verify(digest, password)
        except (VerificationError, InvalidHashError):
            return False


def _same_owner_as(path: Path, directory: Path) -> None:
    """``sudo ronda web passwd`` writes into the service's state directory: give the file to
    the directory's owner (the ronda user), so the service can read it."""
    if os.geteuid() != 0:
        return
    info = directory.stat()
    os.chown(path, info.st_uid, info.st_gid)


@dataclass
class Session:
    token: str
    csrf: str
    expires: float


class Sessions:
    """Logged-in browsers, in memory; the oldest goes when there are too many."""

    def __init__(self, lifetime_s: float) -> None:
        self.lifetime_s = lifetime_s
        self._sessions: dict[str, Session] = {}

    def create(self, now: float | None = None) -> Session:
        now = time.time() if now is None else now
        if len(self._sessions) >= MAX_SESSIONS:
            oldest = min(self._sessions.values(), key=lambda s: s.expires)
            self._sessions.pop(oldest.token, None)
        session = Session(
            token=secrets.token_urlsafe(32),
            csrf=secrets.token_urlsafe(32),
            expires=now + self.lifetime_s,
        )
        self._sessions[session.token] = session
        return session

    def get(self, token: str | None, now: float | None = None) -> Session | None:
        if not token:
            return None
        session = self._sessions.get(token)
        if session is None:
            return None
        if session.expires <= (time.time() if now is None else now):
            self._sessions.pop(token, None)
            return None
        return session

    def drop(self, token: str | None) -> None:
        if token:
            self._sessions.pop(token, None)


def same_token(given: str | None, expected: str) -> bool:
    """Constant-time comparison, so the CSRF token cannot be guessed byte by byte."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


@dataclass
class LoginThrottle:
    """At most ``attempts`` wrong passwords per client within ``window_s`` (and ten times that
    from everyone together); see the module docstring."""

    attempts: int
    window_s: float
    _failures: dict[str, deque[float]] = field(default_factory=dict)
    _everyone: deque[float] = field(default_factory=deque)

    def retry_after(self, client: str, now: float | None = None) -> float | None:
        """Seconds the client must wait before trying again, or None when it may try now."""
        now = time.time() if now is None else now
        waits = [
            self._wait(self._failures.get(client), self.attempts, now),
            self._wait(self._everyone, self.attempts * 10, now),
        ]
        worst = max((w for w in waits if w is not None), default=None)
        return worst

    def failed(self, client: str, now: float | None = None) -> None:
        now = time.time() if now is None else now
        if client not in self._failures and len(self._failures) >= MAX_TRACKED_CLIENTS:
            self._failures.pop(next(iter(self._failures)))  # the longest-known address
        self._failures.setdefault(client, deque()).append(now)
        self._everyone.append(now)
        log.warning("web: wrong password from %s", client)

    def succeeded(self, client: str) -> None:
        self._failures.pop(client, None)

    def _wait(self, times: deque[float] | None, limit: int, now: float) -> float | None:
        if not times:
            return None
        while times and times[0] <= now - self.window_s:
            times.popleft()
        if len(times) < limit:
            return None
        return times[0] + self.window_s - now


@dataclass
class Access:
    """Who may see a site: its password file, sessions, login throttle and the header rules.

    The camera's page and the home page (``camera.home``) each build one from their ``web:``
    section and state directory; ``camera.site.security`` reads it from the application, so both
    sites log in, check CSRF tokens and throttle guessers with the same code."""

    passwords: PasswordFile
    sessions: Sessions
    throttle: LoginThrottle
    proxies: list[Network]
    secure_cookies: bool
    """Cookies marked ``Secure`` when the browser reaches us over HTTPS (our own TLS, or a
    reverse proxy named by an https ``public_url``)."""
    health_without_login: bool
    worker: ThreadPoolExecutor
    """Where a password is checked (argon2 takes a fraction of a second): off the event loop."""

    @classmethod
    def for_site(cls, config: WebConfig, state_dir: Path, worker: ThreadPoolExecutor) -> Access:
        public = config.public_url or ""
        return cls(
            passwords=PasswordFile(state_dir),
            sessions=Sessions(config.session_hours * 3600),
            throttle=LoginThrottle(config.login_attempts, config.login_window_s),
            proxies=config.trusted_proxy_networks,
            secure_cookies=config.tls or public.startswith("https://"),
            health_without_login=config.allow_health_without_login,
            worker=worker,
        )

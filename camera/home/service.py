"""``ronda home`` in one process: the broker listener, the store and the page, started and
stopped in order."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from aiohttp import web

from camera.home.listener import HomeListener
from camera.home.pages import HomeSite, build_home_app
from camera.home.settings import HomeFile
from camera.home.store import HomeStore
from camera.site.auth import Access, PasswordFile
from camera.site.server import SiteServer

log = logging.getLogger(__name__)

HOME_DIR = "home"
PASSWORD_HINT = "`ronda home passwd`"


def home_state_dir(config: HomeFile) -> Path:
    """``<state dir>/home``: beside a camera's own files when both run from one directory,
    never mixed with them (its own database and its own web password)."""
    return config.store.directory() / HOME_DIR


class HomeError(Exception):
    """The home page cannot start (its state directory, its database): one line."""


class HomeServer(SiteServer):
    def __init__(self, site: HomeSite, access: Access, config: HomeFile, port: int | None):
        self.site = site
        self.access = access
        super().__init__(
            config.web,
            password_set=access.passwords.is_set(),
            port=port,
            password_hint=PASSWORD_HINT,
        )

    def make_app(self, loop: asyncio.AbstractEventLoop) -> web.Application:
        return build_home_app(self.site, self.access)

    def stopped(self) -> None:
        self.access.worker.shutdown(wait=False, cancel_futures=True)


class Home:
    """The running home page; ``close()`` leaves the broker session in place."""

    def __init__(self, config: HomeFile, port: int | None = None) -> None:
        directory = home_state_dir(config)
        try:
            self.store = HomeStore(directory, config.home.keep_events)
        except (OSError, sqlite3.Error) as error:
            reason = getattr(error, "strerror", None) or " ".join(str(error).split())
            raise HomeError(f"home: cannot keep its store in {directory}: {reason}") from None
        self.listener = HomeListener(config, self.store)
        site = HomeSite(
            name="home",
            store=self.store,
            listener=self.listener,
            timeline=config.home.timeline,
        )
        worker = ThreadPoolExecutor(1, thread_name_prefix="ronda-home-worker")
        access = Access.for_site(config.web, directory, worker)
        self.server = HomeServer(site, access, config, port)
        self.config = config

    def start(self) -> None:
        self.listener.start()
        try:
            self.server.start()
        except BaseException:
            self.listener.stop()
            self.store.close()
            raise

    def close(self) -> None:
        self.server.stop()
        self.listener.stop()
        self.store.close()


def password_file(config: HomeFile) -> PasswordFile:
    return PasswordFile(home_state_dir(config))

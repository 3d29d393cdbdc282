"""Starting the page: inside ``ronda run`` (beside the frame loop) or alone (``ronda web``)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from camera.config import RondaConfig
from camera.store import DATABASE_NAME, Database
from camera.web.broker_stats import BrokerStats
from camera.web.context import WebContext
from camera.web.live import LiveFeed
from camera.web.server import WebError, WebServer

if TYPE_CHECKING:
    from camera.app import Runtime

log = logging.getLogger(__name__)


def attach_web(runtime: Runtime, config_path: Path | None) -> WebServer | None:
    """Serve the page from a running camera; a page that cannot start is logged, and the
    camera goes on without it (alerts matter more than the page)."""
    config = runtime.config
    if not config.web.enabled:
        return None
    feed = LiveFeed(config.web.live_fps, config.web.live_width)
    context = WebContext(
        config=config,
        config_path=config_path,
        database=Database(runtime.state_dir / DATABASE_NAME),
        live=feed,
        stats=runtime.stats_payload,
        apply_config=runtime.apply_config,
        controls=runtime.controls,
    )
    runtime.pipeline.hooks.append(feed)
    runtime.on_config_change.append(lambda changed: _follow(context, changed))
    server = WebServer(context)
    try:
        server.start()
    except WebError as error:
        log.error("%s; the camera runs on without its page", error)
        runtime.pipeline.hooks.remove(feed)
        context.database.close()
        return None
    return server


def _follow(context: WebContext, config: RondaConfig) -> None:
    """The file changed under us (``ronda web``, an editor): draw what the loop now uses."""
    context.config = context.config.model_copy(
        update={"motion": config.motion, "zones": config.zones}
    )


def browse(config: RondaConfig, config_path: Path | None, port: int | None) -> WebServer:
    """``ronda web``: the page over a state directory, with no camera in this process."""
    database = Database(config.store.directory() / DATABASE_NAME)
    context = WebContext(
        config=config, config_path=config_path, database=database, stats=BrokerStats(config)
    )
    server = WebServer(context, port=port)
    server.start()
    return server

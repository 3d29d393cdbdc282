"""The masks and zones editor: the page, and the save that validates, writes and applies."""

from __future__ import annotations

import asyncio
import json
import logging

from aiohttp import web

from camera.config_file import ConfigIssue
from camera.pipeline.still import STILL_NAME, still_age
from camera.site.render import render
from camera.web.areas import AreaError, Areas, save
from camera.web.context import CONTEXT, WebContext

log = logging.getLogger(__name__)

NO_FILE = (
    "Ronda runs on its built-in defaults, with no configuration file to save to: start it with "
    "--config FILE (the service uses /etc/ronda/ronda.yaml)."
)


async def editor_page(request: web.Request) -> web.StreamResponse:
    context = request.app[CONTEXT]
    areas = {
        "masks": [[list(p) for p in polygon] for polygon in context.config.motion.masks],
        "zones": {name: [list(p) for p in z.points] for name, z in context.config.zones.items()},
    }
    return render(
        request,
        "masks.html",
        areas_json=json.dumps(areas),
        config_path=str(context.config_path) if context.config_path else None,
        still_age=None if context.live is not None else still_age(context.state_dir),
    )


async def still(request: web.Request) -> web.StreamResponse:
    """The camera's latest still (``ronda web``'s editor background)."""
    path = request.app[CONTEXT].state_dir / STILL_NAME
    if not path.is_file():
        raise web.HTTPNotFound(text="404: no still yet (the running camera saves one)\n")
    return web.FileResponse(path, headers={"Cache-Control": "no-store"})


def _issues_response(issues: tuple[ConfigIssue, ...]) -> web.Response:
    body = {"ok": False, "errors": [{"path": i.path, "message": i.line} for i in issues]}
    return web.json_response(body, status=400)


def _save(context: WebContext, areas: Areas) -> None:
    """Runs in a worker thread: file I/O and validation stay off the event loop."""
    if context.config_path is None:
        raise AreaError((ConfigIssue("(file)", NO_FILE),))
    with context.config_lock:
        saved = save(context.config_path, areas)
        # Keep what this process was started with (e.g. --state-dir); take the new areas.
        context.config = context.config.model_copy(
            update={"motion": saved.motion, "zones": saved.zones}
        )
        if context.apply_config is not None:
            context.apply_config(saved)


async def save_areas(request: web.Request) -> web.StreamResponse:
    context = request.app[CONTEXT]
    try:
        data = await request.json()
    except (ValueError, UnicodeDecodeError):
        return _issues_response((ConfigIssue("(request)", "the request is not JSON"),))
    try:
        areas = Areas.from_json(data)
        await asyncio.get_running_loop().run_in_executor(context.worker, _save, context, areas)
    except AreaError as error:
        return _issues_response(error.issues)
    log.info(
        "web: saved %d motion mask(s) and zones [%s] to %s",
        len(areas.masks),
        ", ".join(areas.zones),
        context.config_path,
    )
    return web.json_response({"ok": True, "applied": context.apply_config is not None})

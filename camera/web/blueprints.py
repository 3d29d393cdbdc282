"""The Home Assistant blueprints, served by the camera itself.

Home Assistant imports a blueprint from any URL it can reach, so the camera's own page is an
import address that needs no public host: ``http://<camera>:8080/blueprints/ronda_notify.yaml``.
The route needs no login (Home Assistant cannot log in; a blueprint holds no secret, only the
automation's text, the same for every Ronda), and serves only the files shipped with Ronda.
The served copy's ``source_url`` names the address it was fetched from, so Home Assistant's
"re-import" later asks the same camera for a newer version.
"""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp import web

import camera

PREFIX = "/blueprints/"
SOURCE_URL = re.compile(r"^(\s*source_url:\s*)\S+\s*$", re.MULTILINE)


def blueprint_folder() -> Path:
    """``config/homeassistant`` of a checkout, else the copy a wheel carries (hatch_build.py)."""
    package = Path(camera.__file__).resolve().parent
    checkout = package.parent / "config" / "homeassistant"
    return checkout if checkout.is_dir() else package / "bundled_blueprints"


def blueprint_names() -> list[str]:
    folder = blueprint_folder()
    return sorted(path.name for path in folder.glob("*.yaml")) if folder.is_dir() else []


def with_source_url(text: str, url: str) -> str:
    """The blueprint with its ``source_url`` pointing at ``url``."""
    return SOURCE_URL.sub(lambda match: f"{match[1]}{url}", text, count=1)


async def blueprint(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in blueprint_names():  # only our own files: no path is built from the request
        raise web.HTTPNotFound(text="404: no such blueprint\n")
    text = (blueprint_folder() / name).read_text(encoding="utf-8")
    url = str(request.url.with_query(None))
    return web.Response(
        text=with_source_url(text, url),
        content_type="text/yaml",
        headers={"Cache-Control": "no-cache"},
    )

"""The owner's controls on the web page: the same ``Controls.change`` that the MQTT command
topics call, behind the page's login and CSRF check (``camera.site.security``).

A form post (the page works without JavaScript) is answered with a redirect back to the page
it came from; a refused value shows as one line there.  Under ``ronda web`` no camera runs in
the process: the page shows the state from the service's stats and says where to change it.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from aiohttp import web

from camera.controls import ControlError
from camera.site.security import safe_next
from camera.web.context import CONTEXT

log = logging.getLogger(__name__)


async def change_control(request: web.Request) -> web.StreamResponse:
    context = request.app[CONTEXT]
    form = await request.post()
    control, value = str(form.get("control", "")), str(form.get("value", ""))
    back = safe_next(str(form.get("next", "/")))
    if context.controls is None:
        raise web.HTTPConflict(
            text="409: no camera runs in this process (ronda web): change the controls on the "
            "page of `ronda run`, in Home Assistant or over MQTT\n"
        )
    try:
        context.controls.change(control, value, source="web")
    except ControlError as error:
        target = f"{back}?control_error={quote(f'{control}: {error}')}#controls"
        raise web.HTTPSeeOther(target) from None
    log.info("web: control %s set to %s", control, value)
    raise web.HTTPSeeOther(f"{back}#controls")

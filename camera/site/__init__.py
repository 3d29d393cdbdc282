"""The web kit both pages are built on: serving a site on its own thread (``server``), the
``web:`` section (``config``), passwords and sessions (``auth``), the login, CSRF and header
rules every request passes (``security``), client addresses behind proxies (``clients``), and
the shared templates and static files (``render``, ``templates/``, ``static/``).

The camera's page (``camera.web``) and the home page (``camera.home``) stand on it side by side
and never import each other; the kit imports neither.  Nothing is imported here: the
configuration reads ``camera.site.config`` without loading aiohttp.
"""

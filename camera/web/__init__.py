"""The camera's web page: live view, events, masks and zones, status.

The web side reads (the store, the latest frame, the stats, the config) and never drives the
frame loop: a change to masks or zones goes through the config model and reaches the loop at its
next frame.  It is built on the site kit (``camera.site``: serving, login, templates), as the
home page is; the server and its dependencies load when a command serves the page.
"""

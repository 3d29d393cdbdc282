"""Ronda as a system service: systemd notification, install, ``doctor`` and ``status``.

Nothing is imported here: ``camera.cli`` loads ``camera.service.commands`` at every start, and
the installer must run on a bare system Python.
"""

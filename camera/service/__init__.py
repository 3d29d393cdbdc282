"""Ronda as a systemd service: the notify protocol (``notify``) and the frame loop's watchdog
(``monitor``), install and uninstall (``install``, ``template``), where each camera's unit,
config and state live (``layout``), and what systemd says of a unit (``units``).  The commands
an owner types are in ``camera.cli``.

Nothing is imported here: the installer must run on a bare system Python
(``python3 -m camera.service``).
"""

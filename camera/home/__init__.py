"""``ronda home``: one page for every camera in the house, fed by the broker only.

Each camera stays autonomous; this separate, read-mostly process subscribes to every camera's
retained state and events, keeps its own small SQLite store, links to each camera's own page,
and sends whole-home commands (arm, disarm, snooze) to the cameras' command topics.  No video
passes through it.  Nothing is imported here: ``ronda --help`` loads ``camera.cli.home``
and must stay light.
"""

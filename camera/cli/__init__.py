"""The ``ronda`` command: one module per command, each with its ``register(add)`` (its arguments)
and its handler, on one shared start (``startup``: the configuration, logging) and one way to
end in a failure (``failures``: one line on stderr and an exit code, never a traceback).

Exit codes: 0 success; 1 a runtime failure (unreadable video, missing model, dead state
directory, any file or directory the system refuses); 2 a bad configuration or command line;
3 finished, but alerts are still queued on disk because the broker could not be reached (they
are delivered by the next run).

Registering a command imports nothing heavy: ``ronda --help`` and ``sudo python3 -m
camera.service install`` run on a bare Python; each handler loads what it needs when it runs.
"""

from camera.cli.ronda import build_parser, main

__all__ = ["build_parser", "main"]

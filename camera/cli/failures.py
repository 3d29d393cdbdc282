"""How a command ends in a failure: one line on stderr and an exit code, never a traceback.

The errors a user can cause or fix carry their own one-line message; a failing state database
and anything the system refuses (a file, a directory, ``$HOME`` itself) are worded here.
Imported only when a command failed: it loads every stage that defines one of these errors.
"""

from __future__ import annotations

import sqlite3

from camera.config import ConfigError
from camera.demo import DemoSceneError
from camera.detect import ModelError
from camera.eval.manifest import ManifestError
from camera.files import describe_os_error, shown
from camera.mqtt.config import CredentialsError
from camera.mqtt.topics import TopicError
from camera.pipeline.sinks import OutputError
from camera.record.errors import EncoderError
from camera.sources import SourceError
from camera.store.database import DatabaseError
from camera.store.outbox import OutboxError

EXIT_FAILURE, EXIT_CONFIG = 1, 2

USER_ERRORS: tuple[type[Exception], ...] = (
    ConfigError,
    CredentialsError,
    DatabaseError,
    DemoSceneError,
    EncoderError,
    ManifestError,
    ModelError,
    OutboxError,
    OutputError,
    SourceError,
    TopicError,
)
CONFIG_ERRORS: tuple[type[Exception], ...] = (
    ConfigError,
    CredentialsError,
    ManifestError,
    TopicError,
)


def exit_code_for(error: Exception) -> int:
    """2 for configuration (and eval manifest) mistakes (fix the file), 1 for everything else."""
    return EXIT_CONFIG if isinstance(error, CONFIG_ERRORS) else EXIT_FAILURE


def one_line(error: Exception) -> tuple[str, int] | None:
    """The line to print and the exit code, or None for a fault of Ronda's own (a traceback
    is then the honest report)."""
    if isinstance(error, sqlite3.Error):  # the state database failed under us
        return f"state database: {' '.join(str(error).split())}", EXIT_FAILURE
    if isinstance(error, USER_ERRORS):
        return str(error), exit_code_for(error)
    if isinstance(error, OSError):
        return os_error_line(error), EXIT_FAILURE
    return None


def os_error_line(error: OSError) -> str:
    """``/home/ann/.config/ronda/ronda.yaml: permission denied``: the path the system refused
    (both of a rename) and why, in its own words."""
    paths = [shown(str(p)) for p in (error.filename, error.filename2) if p is not None]
    reason = describe_os_error(error)
    return f"{' -> '.join(paths)}: {reason}" if paths else reason

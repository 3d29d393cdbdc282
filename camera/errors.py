"""The errors a user can cause or fix, and the exit code each maps to.

Each of these carries a one-line, user-facing message; the CLI prints it instead of a traceback.
"""

from __future__ import annotations

from camera.config import ConfigError
from camera.demo import DemoSceneError
from camera.detect import ModelError
from camera.mqtt.topics import TopicError
from camera.record.errors import EncoderError
from camera.sources import SourceError
from camera.store.database import DatabaseError

USER_ERRORS: tuple[type[Exception], ...] = (
    ConfigError,
    DatabaseError,
    DemoSceneError,
    EncoderError,
    ModelError,
    SourceError,
    TopicError,
)


def exit_code_for(error: Exception) -> int:
    """2 for configuration mistakes (fix the file), 1 for everything else."""
    return 2 if isinstance(error, (ConfigError, TopicError)) else 1

"""The errors a user can cause or fix, and the exit code each maps to.

Each of these carries a one-line, user-facing message; the CLI prints it instead of a traceback.
"""

from __future__ import annotations

from camera.config import ConfigError
from camera.demo import DemoSceneError
from camera.detect import ModelError
from camera.eval.manifest import ManifestError
from camera.mqtt.config import CredentialsError
from camera.mqtt.topics import TopicError
from camera.pipeline.sinks import OutputError
from camera.record.errors import EncoderError
from camera.sources import SourceError
from camera.store.database import DatabaseError
from camera.store.outbox import OutboxError

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
    return 2 if isinstance(error, CONFIG_ERRORS) else 1

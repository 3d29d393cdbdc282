"""The configuration as the installed service sees it, for commands run from a shell."""

from __future__ import annotations

from pathlib import Path

from camera.config import RondaConfig, load_config
from camera.service.layout import service_state_dir


def load_service_config(
    config_path: Path | None, state_dir: Path | None = None
) -> tuple[RondaConfig, Path | None]:
    """Load the config (``--config`` or the default search) with ``store.path`` pointing at
    the state directory the service uses (see ``service_state_dir``), or ``state_dir``."""
    config, path = load_config(config_path)
    state = state_dir or service_state_dir(config.store.directory(), config.store.path, path)
    if state != config.store.directory():
        store = config.store.model_copy(update={"path": state})
        config = config.model_copy(update={"store": store})
    return config, path

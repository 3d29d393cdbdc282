"""What ``ronda home`` reads of a configuration file, without loading the camera's stages.

``HomeFile`` holds only the sections the home page uses (``mqtt``, ``web``, ``store``, ``home``,
``logging``), validated with the same rules and messages as a camera's file
(``camera.config_file``).  A camera's file works too: its camera sections are skipped, so one
file can serve a camera and the home page on the same machine.  Why not the camera's
``RondaConfig``: it imports every stage (OpenCV, numpy, PyAV), about 55 MB the page never uses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from camera.config_file import LoggingSection, load_yaml, parse_model
from camera.files import shown
from camera.mqtt.config import MqttConfig
from camera.section import Section
from camera.service.layout import service_state_dir
from camera.site.config import HomeConfig, WebConfig
from camera.store.config import StoreConfig

CAMERA_SECTIONS = frozenset(
    {
        "camera",
        "source",
        "motion",
        "regions",
        "detector",
        "tracker",
        "thumbnail",
        "clips",
        "governor",
        "zones",
        "controls",
        "night",
    }
)
"""The camera's own sections, skipped here (a test keeps this list equal to the camera's)."""


class HomeFile(Section):
    """The home page's configuration."""

    mqtt: MqttConfig = MqttConfig()
    web: WebConfig = WebConfig()
    store: StoreConfig = StoreConfig()
    home: HomeConfig = HomeConfig()
    logging: LoggingSection = LoggingSection()


def parse_home_config(data: Any, source: str = "<config>") -> HomeFile:
    if isinstance(data, dict):
        data = {key: value for key, value in data.items() if key not in CAMERA_SECTIONS}
    return parse_model(HomeFile, data, source)


def load_home_config(path: Path, state_dir: Path | None = None) -> HomeFile:
    """The file at ``path``, with ``store.path`` pointing at the service's state directory
    when run from a shell (``camera.service.layout.service_state_dir``), or ``state_dir``."""
    path = Path(path).expanduser()
    config = parse_home_config(load_yaml(path), shown(path))
    state = state_dir or service_state_dir(config.store.directory(), config.store.path, path)
    if state != config.store.directory():
        config = config.model_copy(
            update={"store": config.store.model_copy(update={"path": state})}
        )
    return config

"""Wheel build hook: the models ride in the wheel as package data, exactly the files the
manifest names (plus labels and licence notices), never their build scripts; so do the Home
Assistant blueprints, which the camera's web page serves (camera/web/blueprints.py).

``camera.detect.manifest.bundled_manifest`` finds them in ``camera/bundled_models`` of an
installed wheel; a checkout uses ``models/`` directly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

MODELS = Path("models")
TARGET = "camera/bundled_models"
ALWAYS = ("manifest.json", "labels.txt", "NOTICE")
BLUEPRINTS = Path("config") / "homeassistant"


class CustomBuildHook(BuildHookInterface):
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        manifest = json.loads((root / MODELS / "manifest.json").read_text(encoding="utf-8"))
        names = set(ALWAYS) | {variant["file"] for variant in manifest["variants"]}
        for name in sorted(names):
            build_data["force_include"][str(root / MODELS / name)] = f"{TARGET}/{name}"
        for path in sorted((root / BLUEPRINTS).glob("*.yaml")):
            build_data["force_include"][str(path)] = f"camera/bundled_blueprints/{path.name}"

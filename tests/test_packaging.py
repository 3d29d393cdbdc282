"""The wheel a user installs: the package, its type marker and the models, nothing else."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def build_wheel(out: Path) -> tuple[Path, str]:
    """``pip wheel`` with the build backend already installed (tests never download)."""
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps", "-w", out, "."],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    (wheel,) = out.glob("ronda-*.whl")
    return wheel, result.stdout + result.stderr


def test_wheel_carries_the_models_as_package_data_and_finds_them(tmp_path: Path) -> None:
    wheel, output = build_wheel(tmp_path / "dist")
    assert "deprecat" not in output.lower(), output
    names = set(zipfile.ZipFile(wheel).namelist())
    manifest = json.loads((REPO / "models" / "manifest.json").read_text())
    expected = {"manifest.json", "labels.txt", "NOTICE"} | {v["file"] for v in manifest["variants"]}
    bundled = {n.removeprefix("camera/bundled_models/") for n in names if "bundled_models/" in n}
    assert bundled == expected  # every model the manifest names, no build script
    assert "camera/py.typed" in names
    for site in ("site", "web", "home"):
        folder = REPO / "camera" / site
        for asset in [*folder.glob("templates/*"), *folder.glob("static/*")]:
            assert asset.relative_to(REPO).as_posix() in names  # the pages work offline
    assert not any(n.startswith(("tests/", "bench/", "models/", "tools/")) for n in names)
    # The demo needs nothing but the package; the web page serves the blueprints.
    assert {"camera/demo/photos/astronaut.png", "camera/demo/photos/chelsea.png"} <= names
    assert "camera/demo/photos/NOTICE" in names
    for blueprint in (REPO / "config" / "homeassistant").glob("*.yaml"):
        assert f"camera/bundled_blueprints/{blueprint.name}" in names
    # Unpacked away from the checkout, the package finds its bundled manifest.
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    probe = "from camera.detect.manifest import bundled_manifest as b; print(b())"
    found = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert found.stdout.strip() == str(site / "camera" / "bundled_models" / "manifest.json"), found

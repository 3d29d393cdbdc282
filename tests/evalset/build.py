"""Build the eval set into a folder: the clips and the ``manifest.json`` that ``ronda eval`` reads.

``python -m tests.evalset OUT [--part ci|full]``.  Each item names its source and licence, its
``light`` (day, dusk, ir) and its ``footage`` (composed, re-rendered, real), so the report gives
day and night, and real and composed footage, apart.  The composed clips are rebuilt only when
their recipe changed (``recipe`` in the manifest), so a second build is quick.

Both parts list the real set (``tests/footage/real``, by relative path) and the real lawn clip
re-rendered in infrared night; the full part also lists the first clips of ``tests/footage``,
re-renders two of them at dusk, in infrared night and in rain, and adds the larger real set kept
outside the repository when ``RONDA_FOOTAGE_EXTRA`` names its folder (``docs/eval.md``).
"""

from __future__ import annotations

import json
import os
import zlib
from pathlib import Path

import cv2
import numpy as np

from tests.conftest import FOOTAGE, FOOTAGE_MANIFESTS, footage_labels
from tests.evalset.render import Scene, _light, _rain, _rain_drops, render, still_things
from tests.evalset.scenes import Variant, ci_scenes, ci_variants, full_scenes, full_variants

COMPOSED_LICENCE = (
    "composed by tests/evalset from: scikit-image data (chelsea CC0, brick/grass/gravel textures "
    "public domain), darknet data images (MIT), opencv-course stills (MIT), Intel IoT DevKit "
    "sample-videos frames (CC BY 4.0, attribute Intel), bgslibrary video frame (MIT); see "
    "tests/footage/sprites/SOURCES.md"
)


def _recipe(thing: object) -> str:
    return f"{zlib.crc32(repr(thing).encode()):08x}"


def _previous(out: Path) -> dict[str, str]:
    try:
        items = json.loads((out / "manifest.json").read_text())["items"]
    except (OSError, ValueError, KeyError):
        return {}
    return {item["path"]: item.get("recipe", "") for item in items}


def _labels(visits: list[tuple[str, int, int]]) -> dict[str, list[list[int]]]:
    labels: dict[str, list[list[int]]] = {"person": [], "pet": []}
    for label, first, last in visits:
        labels[label].append([first, last])
    return labels


def _scene_item(scene: Scene, out: Path, previous: dict[str, str]) -> dict:
    path = f"composed/{scene.name}.mp4"
    recipe = _recipe(scene)
    target = out / path
    truth = target.with_suffix(".json")
    if previous.get(path) == recipe and target.exists() and truth.exists():
        visits = [tuple(v) for v in json.loads(truth.read_text())]
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        visits = render(scene, target)
        truth.write_text(json.dumps(visits))
    conditions = [scene.light] + (["rain"] if scene.rain else [])
    conditions += [n.kind for n in scene.nuisances]
    return {
        "path": path,
        "labels": _labels(visits),  # type: ignore[arg-type]
        "kind": "composed",
        "light": scene.light,
        "footage": "composed",
        "conditions": sorted(set(conditions)),
        "still": still_things(scene),
        "resolution": f"{scene.size[0]}x{scene.size[1]}",
        "fps": scene.fps,
        "frames": scene.frame_count,
        "notes": scene.notes,
        "license": COMPOSED_LICENCE,
        "recipe": recipe,
    }


def _variant_item(variant: Variant, out: Path, previous: dict[str, str]) -> dict:
    path = f"variants/{variant.name}.mp4"
    recipe = _recipe(variant)
    target = out / path
    original = footage_labels(variant.clip)
    if previous.get(path) != recipe or not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        _render_variant(variant, target)
    return {
        "path": path,
        "labels": {k: original["labels"].get(k, []) for k in ("person", "pet")},
        "kind": "real footage, re-rendered",
        "light": variant.light,
        "footage": "re-rendered",
        "conditions": [variant.light] + (["rain"] if variant.rain else []),
        "origin": f"tests/footage/{variant.clip}",
        "license": original["license"],
        "recipe": recipe,
    }


def _render_variant(variant: Variant, target: Path) -> None:
    capture = cv2.VideoCapture(str(FOOTAGE / variant.clip))
    fps = capture.get(cv2.CAP_PROP_FPS) or 10.0
    size = (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    scene = Scene(
        variant.name, "room", 0.0, light=variant.light, rain=variant.rain, size=size, fps=fps
    )
    rng = np.random.default_rng(scene.seed)
    drops = _rain_drops(rng, scene) if variant.rain else None
    writer = cv2.VideoWriter(str(target), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    index = 0
    try:
        while True:
            ok, image = capture.read()
            if not ok:
                break
            frame = image.astype(np.float32)
            if drops is not None:
                _rain(frame, drops, index, size[1])
            frame = _light(frame, scene, index / fps, rng)
            writer.write(np.clip(frame, 0, 255).astype(np.uint8))
            index += 1
    finally:
        writer.release()
        capture.release()


EXTRA_FOOTAGE = "RONDA_FOOTAGE_EXTRA"
"""Names a folder holding a ``manifest.json`` of more labelled real footage (``docs/eval.md``)."""


def _footage_items(out: Path, manifest: Path, link: str) -> list[dict]:
    """The clips of a labelled-footage manifest (photos left out), by a path through the link
    ``out/<link>`` to the manifest's folder: the same clip names wherever the set is built."""
    linked = out / link
    if linked.is_symlink():
        linked.unlink()
    elif linked.exists():
        raise SystemExit(f"{linked} is in the way of the link to {manifest.parent}")
    linked.symlink_to(manifest.parent.resolve(), target_is_directory=True)
    items = json.loads(manifest.read_text())["items"]
    return [
        {**item, "path": f"{link}/{item['path']}"}
        for item in items
        if item.get("frames", 2) > 1 and not item["path"].startswith("stills/")
    ]


def _extra_manifest() -> Path | None:
    folder = os.environ.get(EXTRA_FOOTAGE)
    if not folder:
        return None
    manifest = Path(folder) / "manifest.json"
    if not manifest.is_file():
        raise SystemExit(f"{EXTRA_FOOTAGE}={folder}: no manifest.json there")
    return manifest


def build(out: Path, part: str) -> Path:
    """Write the ``part`` (``ci`` or ``full``) into ``out``; returns the manifest's path."""
    out.mkdir(parents=True, exist_ok=True)
    previous = _previous(out)
    first, real = FOOTAGE_MANIFESTS
    scenes = ci_scenes() if part == "ci" else full_scenes()
    variants = ci_variants() if part == "ci" else full_variants()
    items = [_scene_item(scene, out, previous) for scene in scenes]
    items += [_variant_item(v, out, previous) for v in variants]
    items += _footage_items(out, real, "real")
    if part == "full":
        items += _footage_items(out, first, "footage")
        extra = _extra_manifest()
        if extra is not None:
            items += _footage_items(out, extra, "extra")
    manifest = out / "manifest.json"
    description = (
        f"Ronda's eval set ({part} part), built by python -m tests.evalset; every item names "
        "its source and licence. Frame ranges are 0-based, inclusive."
    )
    manifest.write_text(json.dumps({"description": description, "items": items}, indent=1))
    return manifest

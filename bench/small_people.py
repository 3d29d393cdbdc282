"""The smallest person Ronda alerts, per input resolution: people of a given height crossing a
real car park (the eval set's ``small-people`` scene, ``tests/evalset/scenes.py``), replayed
through the whole pipeline (``ronda eval``'s runner) with the configuration's defaults, or with
``--set section.key=value`` overrides (e.g. ``motion.sensitivity=high``).

Prints, per resolution, the walkers alerted out of three at each height, and the smallest
height at which all three were alerted.

Run from the repo root: ``.venv/bin/python bench/small_people.py [--heights 16 24 32 48]
[--sizes 320x240 640x360 1280x720] [--set motion.sensitivity=high]``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
from pathlib import Path

import yaml

from camera.config import parse_config
from camera.eval.manifest import load_manifest
from camera.eval.metrics import score_clip
from camera.eval.runner import replay_clips
from tests.evalset.build import _labels
from tests.evalset.render import render
from tests.evalset.scenes import small_people_parking


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--heights", type=int, nargs="+", default=[16, 24, 32, 48])
    parser.add_argument("--sizes", nargs="+", default=["320x240", "640x360", "1280x720"])
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE")
    args = parser.parse_args()
    overrides: dict = {"mqtt": {"enabled": False}}
    for item in args.set:
        key, value = item.split("=", 1)
        section, name = key.split(".", 1)
        overrides.setdefault(section, {})[name] = yaml.safe_load(value)
    with tempfile.TemporaryDirectory(prefix="ronda-small-") as scratch:
        folder = Path(scratch)
        overrides["store"] = {"path": str(folder / "state")}
        config = parse_config(overrides)
        items = []
        for size_text in args.sizes:
            width, height = (int(v) for v in size_text.split("x"))
            for person in args.heights:
                scene = small_people_parking((width, height), person)
                path = folder / f"{scene.name}.mp4"
                visits = render(scene, path)
                items.append({"path": path.name, "labels": _labels(visits)})
        manifest = folder / "manifest.json"
        manifest.write_text(json.dumps({"items": items}))
        clips = load_manifest(manifest).clips
        found: dict[tuple[str, int], tuple[int, int]] = {}
        for run in replay_clips(config, list(clips), threading.Event()):
            score, _ = score_clip(run.visits, run.events, 1.0)
            name = run.clip.name  # small-people-WxH-Npx.mp4
            size, person = name.split("-")[2], int(name.split("-")[3].removesuffix("px.mp4"))
            found[(size, person)] = (score.visits_found, score.visits)
    print(f"{'frame':>10} " + " ".join(f"{h:>5}px" for h in args.heights) + "  smallest")
    for size_text in args.sizes:
        row = [found.get((size_text, h), (0, 0)) for h in args.heights]
        full = [h for h, (got, of) in zip(args.heights, row, strict=True) if of and got == of]
        smallest = f"{min(full)} px" if full else "-"
        cells = " ".join(f"{got:>3}/{of:<3}" for got, of in row)
        print(f"{size_text:>10} {cells}  {smallest}")


if __name__ == "__main__":
    main()

"""``python -m tests.evalset OUT [--part ci|full]``: build the eval set (see ``build.py``)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tests.evalset.build import build


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.evalset", description=__doc__)
    parser.add_argument("out", type=Path, help="folder for the clips and manifest.json")
    parser.add_argument("--part", choices=("ci", "full"), default="full")
    args = parser.parse_args()
    manifest = build(args.out, args.part)
    items = json.loads(manifest.read_text())["items"]
    sum(len(i["labels"].get(k, [])) for i in items for k in ("person", "pet"))


if __name__ == "__main__":
    main()

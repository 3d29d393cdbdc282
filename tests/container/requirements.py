#!/usr/bin/env python3
"""Print what the container roots' wheelhouse must hold, as a pip requirements file.

The hashed lock ``requirements/runtime.txt`` when the checkout has one (it pins Ronda's
dependencies and the build backend for every supported platform); otherwise pyproject.toml's
``[project] dependencies`` and its build backend.  Environment markers are kept: pip evaluates
them for the root's architecture.  Standard library only: build-root.sh runs it on the host.
"""

import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LOCK = REPO / "requirements" / "runtime.txt"


def requirements() -> str:
    if LOCK.is_file():
        return LOCK.read_text()
    with (REPO / "pyproject.toml").open("rb") as file:
        project = tomllib.load(file)
    lines = [*project["project"]["dependencies"], *project["build-system"]["requires"]]
    return "".join(f"{line}\n" for line in lines)


if __name__ == "__main__":
    sys.stdout.write(requirements())

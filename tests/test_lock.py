"""The lock is the truth about versions (issue 19): ``pyproject.toml``, ``uv.lock``, the hashed
requirements files every installer reads, and the packages actually installed must agree.

A change to a dependency in ``pyproject.toml`` without ``bash requirements/refresh.sh`` fails
here, as does a hand-edited requirements file or a venv that drifted from the lock.  Under
``./run-tests.sh --latest`` (``RONDA_UNLOCKED=1``) the installed versions are the newest on
purpose, so only that comparison is skipped.
"""

from __future__ import annotations

import importlib.metadata
import itertools
import os
import re
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements"
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)\s*(?:;\s*(.*?))?\s*\\?$")

# The environments a requirement's marker is evaluated in: every platform and Python the lock
# covers, plus the ones pyproject's markers name for other systems (which the lock leaves out).
MACHINES = ("x86_64", "aarch64", "AMD64", "arm64", "armv7l")
PYTHONS = ("3.11", "3.12", "3.13")


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _lock() -> dict:
    return tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))


def _environment(machine: str, python: str, extra: str) -> dict[str, str]:
    return {
        "platform_machine": machine,
        "sys_platform": "linux",
        "python_version": python,
        "python_full_version": f"{python}.0",
        "extra": extra,
    }


def _active(requirements: list[tuple[str, SpecifierSet, str | None]], env: dict[str, str]) -> set:
    return {
        (name, str(spec))
        for name, spec, marker in requirements
        if marker is None or Marker(marker).evaluate(env)
    }


def _pyproject_requirements() -> list[tuple[str, SpecifierSet, str | None]]:
    project = _pyproject()["project"]
    found = []
    groups = [(None, project["dependencies"])]
    groups += list(project.get("optional-dependencies", {}).items())
    for extra, lines in groups:
        for line in lines:
            requirement = Requirement(line)
            markers = [f"({requirement.marker})"] if requirement.marker else []
            if extra:
                markers.append(f"extra == '{extra}'")
            marker = " and ".join(markers) or None
            found.append((canonicalize_name(requirement.name), requirement.specifier, marker))
    return found


def _locked_requirements() -> list[tuple[str, SpecifierSet, str | None]]:
    ronda = next(package for package in _lock()["package"] if package["name"] == "ronda")
    return [
        (canonicalize_name(i["name"]), SpecifierSet(i.get("specifier", "")), i.get("marker"))
        for i in ronda["metadata"]["requires-dist"]
    ]


def test_the_lock_was_resolved_from_this_pyproject() -> None:
    """Every dependency, bound, marker and extra of pyproject.toml is what uv.lock was made from."""
    ours, locked = _pyproject_requirements(), _locked_requirements()
    extras = ["", *_pyproject()["project"].get("optional-dependencies", {})]
    for machine, python, extra in itertools.product(MACHINES, PYTHONS, extras):
        env = _environment(machine, python, extra)
        assert _active(ours, env) == _active(locked, env), (
            f"pyproject.toml and uv.lock disagree for {env}: run bash requirements/refresh.sh"
        )


def test_the_lock_keeps_the_constraints_and_groups_of_pyproject() -> None:
    pyproject, lock = _pyproject(), _lock()
    ronda = next(package for package in lock["package"] if package["name"] == "ronda")
    wanted = [Requirement(line) for line in pyproject["tool"]["uv"]["constraint-dependencies"]]
    locked = lock["manifest"]["constraints"]
    assert sorted((canonicalize_name(r.name), str(r.specifier)) for r in wanted) == sorted(
        (canonicalize_name(c["name"]), str(SpecifierSet(c["specifier"]))) for c in locked
    )
    groups = pyproject["dependency-groups"]
    assert set(groups) == set(ronda["metadata"]["requires-dev"])


def _pins(path: Path) -> dict[str, str]:
    """``name -> version`` of a hashed requirements file (every line pinned with ==)."""
    pins: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if match:
            pins[canonicalize_name(match[1])] = match[2]
    return pins


def _lock_versions() -> dict[str, str]:
    return {
        canonicalize_name(package["name"]): package["version"]
        for package in _lock()["package"]
        if package["name"] != "ronda"
    }


@pytest.mark.parametrize("name", ["runtime.txt", "test.txt"])
def test_requirements_files_are_exports_of_the_lock(name: str) -> None:
    """Every pin carries hashes and equals uv.lock's version (no hand edits, no stale export)."""
    path = REQUIREMENTS / name
    text = path.read_text(encoding="utf-8")
    pins = _pins(path)
    assert pins, f"{path} pins nothing"
    versions = _lock_versions()
    assert {n: v for n, v in pins.items() if versions.get(n) != v} == {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        if PIN.match(block.splitlines()[0]):
            assert "--hash=sha256:" in block, f"{name}: no hash for {block.splitlines()[0]}"


def test_runtime_lock_is_the_runtime_part_of_the_test_lock() -> None:
    runtime, test = _pins(REQUIREMENTS / "runtime.txt"), _pins(REQUIREMENTS / "test.txt")
    assert set(runtime) <= set(test)
    assert {n: v for n, v in runtime.items() if test[n] != v} == {}
    assert {"numpy", "opencv-python-headless", "paho-mqtt", "ai-edge-litert", "hatchling"} <= set(
        runtime
    )
    assert "pytest" not in runtime and "scikit-image" not in runtime


def test_home_assistant_lock_is_hashed_and_pins_home_assistant() -> None:
    path = REQUIREMENTS / "homeassistant.txt"
    pins = _pins(path)
    wanted = (ROOT / "tests" / "homeassistant" / "requirements.in").read_text(encoding="utf-8")
    for line in wanted.splitlines():
        if line and not line.startswith("#"):
            requirement = Requirement(line)
            assert requirement.specifier.contains(pins[canonicalize_name(requirement.name)])
    assert path.read_text(encoding="utf-8").count("--hash=sha256:") >= len(pins)


@pytest.mark.skipif(
    os.environ.get("RONDA_UNLOCKED") == "1",
    reason="./run-tests.sh --latest installs the newest releases on purpose",
)
def test_installed_versions_are_the_locks() -> None:
    """What this test run imports is exactly what the lock says (CI installs from it)."""
    env = {
        "platform_machine": os.uname().machine,
        "sys_platform": sys.platform,
        "python_version": f"{sys.version_info.major}.{sys.version_info.minor}",
        "python_full_version": ".".join(map(str, sys.version_info[:3])),
    }
    drifted = {}
    for line in (REQUIREMENTS / "test.txt").read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if not match or (match[3] and not Marker(match[3]).evaluate(env)):
            continue
        try:
            installed = importlib.metadata.version(match[1])
        except importlib.metadata.PackageNotFoundError:
            installed = "missing"
        if installed != match[2]:
            drifted[match[1]] = f"{installed} installed, {match[2]} locked"
    assert drifted == {}, "the venv drifted from requirements/test.txt: run ./run-tests.sh"

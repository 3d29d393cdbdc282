"""The layer rule of ``docs/architecture.md``, held against the code's imports.

Read from the source (``tests/import_graph.py``), so a new import that runs back up the layers,
closes a circle or lands in a part that no layer names fails here, with the files named.
"""

from __future__ import annotations

import pytest

from tests.import_graph import arrows, classes, cycles, load, unit, unit_graph

LAYERS: tuple[tuple[str, ...], ...] = (
    # top: what starts a process
    ("camera.__main__", "camera.cli.__main__", "camera.service.__main__"),
    ("camera.cli",),  # the ronda command, one module per command
    ("camera.web", "camera.home", "camera.eval"),  # the pages and the evaluation
    ("camera.app", "camera.stats_message", "camera.service"),  # wiring; the systemd side
    ("camera.config",),  # the configuration: every part's section, composed
    ("camera.site", "camera.mqtt", "camera.record"),  # the web kit; the outputs
    ("camera.pipeline",),  # the frame loop
    ("camera.store", "camera.events", "camera.controls"),  # state on disk, events, controls
    (  # the stages; night (the scene's light) reads motion's sensitivity
        "camera.sources",
        "camera.motion",
        "camera.night",
        "camera.detect",
        "camera.track",
        "camera.governor",
    ),
    ("camera.demo",),
    # the ground: small shared types and helpers that import no stage
    (
        "camera",
        "camera.types",
        "camera.section",
        "camera.config_file",
        "camera.files",
        "camera.shutdown",
        "camera.console",
        "camera.arguments",
        "camera.lazy_exports",
        "camera.accelerators",
    ),
)
"""Top to bottom.  An import goes to a part of its own layer or of a layer below, never up."""

NEVER = (
    ("camera.web", "camera.home", "the two pages stand side by side on the site kit"),
    ("camera.home", "camera.web", "the two pages stand side by side on the site kit"),
)
BIGGEST_CLASS = 300
"""Lines: a class longer than this is doing more than one job (issue 28 split the last ones)."""
MODULES = load()
RANK = {part: depth for depth, layer in enumerate(LAYERS) for part in layer}


def test_every_part_of_the_package_has_a_layer() -> None:
    missing = sorted({unit(name) for name in MODULES} - set(RANK))
    assert not missing, f"place these in LAYERS (and docs/architecture.md): {missing}"


def test_no_module_imports_one_that_imports_it_back() -> None:
    circles = cycles({m.name: m.imports for m in MODULES.values()})
    assert not circles, "import circles: " + "; ".join(" <-> ".join(c) for c in circles)


def test_no_two_parts_import_each_other() -> None:
    circles = cycles(unit_graph(MODULES))
    assert not circles, "circles between parts: " + "; ".join(" <-> ".join(c) for c in circles)


def test_imports_point_down_the_layers() -> None:
    upward = [
        f"{source} -> {target}"
        for source, target in arrows(MODULES)
        if unit(source) in RANK and unit(target) in RANK and RANK[unit(target)] < RANK[unit(source)]
    ]
    assert not upward, "arrows back up the layers: " + ", ".join(upward)


@pytest.mark.parametrize(("source", "target", "why"), NEVER)
def test_parts_that_never_meet(source: str, target: str, why: str) -> None:
    found = [f"{a} -> {b}" for a, b in arrows(MODULES) if unit(a) == source and unit(b) == target]
    assert not found, f"{why}: {', '.join(found)}"


def test_no_class_is_longer_than_300_lines() -> None:
    long = [
        f"{c.module}.{c.name} ({c.lines} lines)"
        for c in classes(MODULES)
        if c.lines > BIGGEST_CLASS
    ]
    assert not long, f"classes over {BIGGEST_CLASS} lines: {', '.join(long)}"


def test_the_rule_catches_what_it_forbids() -> None:
    """The checks themselves can fail: a circle, and an arrow back up, made on purpose."""
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    assert RANK["camera.pipeline"] > RANK["camera.app"]  # so pipeline -> app would be upward
    graph = {m.name: set(m.imports) for m in MODULES.values()}
    graph["camera.types"].add("camera.pipeline.loop")
    assert any("camera.types" in c for c in cycles(graph))

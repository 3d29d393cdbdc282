"""The import graph of the ``camera`` package, read from the source (nothing is imported).

``tests/test_architecture.py`` holds it against the layer rule of ``docs/architecture.md``;
``python -m tests.import_graph`` prints the house in numbers (files, lines, cycles, arrows that
run back up the layers, the biggest classes), the figures quoted when the structure changes.

Every ``import`` counts, wherever it stands: at the top, inside a function (the lazy imports
that keep ``ronda --help`` light) or under ``TYPE_CHECKING``; a module that imports another only
for a type still depends on its meaning.  A name taken from a package's ``__init__`` that only
hands names on (``from camera.store import Outbox``) is an arrow to the submodule that defines
it, and a package's ``__init__`` handing on its own submodules' names draws no arrow.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "camera"


@dataclass
class Module:
    name: str
    path: Path
    tree: ast.Module
    is_package: bool
    lines: int
    imports: set[str] = field(default_factory=set)


def load(root: Path = ROOT) -> dict[str, Module]:
    """Every module of ``camera/`` with the ``camera`` modules it imports."""
    modules: dict[str, Module] = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        text = path.read_text(encoding="utf-8")
        name = ".".join(parts)
        modules[name] = Module(name, path, ast.parse(text), is_package, len(text.splitlines()))
    for module in modules.values():
        module.imports = set(_targets(module, modules)) - {module.name}
    return modules


def _targets(module: Module, modules: dict[str, Module]) -> Iterator[str]:
    package = module.name if module.is_package else module.name.rpartition(".")[0]
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if found := _existing(alias.name, modules):
                    yield found
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, package)
            if base is None or not (base == PACKAGE or base.startswith(PACKAGE + ".")):
                continue
            for alias in node.names:
                target = _through_face(base, alias.name, modules)
                if target is None:
                    continue
                if module.is_package and target.startswith(module.name + "."):
                    continue  # a package's face handing on its own submodules' names
                yield target


def _absolute(node: ast.ImportFrom, package: str) -> str | None:
    if not node.level:
        return node.module
    parts = package.split(".")
    if node.level > 1:
        parts = parts[: -(node.level - 1)]
    return ".".join([*parts, node.module] if node.module else parts)


def _existing(name: str, modules: dict[str, Module]) -> str | None:
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _through_face(base: str, name: str, modules: dict[str, Module]) -> str | None:
    """The module that ``from base import name`` reaches."""
    if f"{base}.{name}" in modules:
        return f"{base}.{name}"
    face = modules.get(base)
    if face is None:
        return _existing(base, modules)
    if face.is_package:
        for node in ast.walk(face.tree):
            if isinstance(node, ast.ImportFrom) and any(a.name == name for a in node.names):
                source = _absolute(node, base)
                if source and source.startswith(base + ".") and source in modules:
                    return source
        homes = _lazy_homes(face)
        if name in homes:
            return f"{base}.{homes[name]}"
    return base


def _lazy_homes(face: Module) -> dict[str, str]:
    """The ``_HOMES`` table of a package whose names load on first use."""
    for node in face.tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "_HOMES" for t in node.targets)
            and isinstance(node.value, ast.Dict)
        ):
            return {
                k.value: v.value
                for k, v in zip(node.value.keys, node.value.values, strict=True)
                if isinstance(k, ast.Constant) and isinstance(v, ast.Constant)
            }
    return {}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def unit(name: str) -> str:
    """The part of the house a module belongs to: its top-level package or module; a
    ``__main__`` module is an entry point of its own (``python -m camera.service``), above
    everything it starts."""
    if name.endswith(".__main__"):
        return name
    parts = name.split(".")
    return ".".join(parts[:2])


def unit_graph(modules: dict[str, Module]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module in modules.values():
        here = unit(module.name)
        graph.setdefault(here, set()).update(unit(t) for t in module.imports if unit(t) != here)
    return graph


@dataclass(frozen=True)
class ClassSize:
    module: str
    name: str
    lines: int


def classes(modules: dict[str, Module]) -> list[ClassSize]:
    """Every class with its length in lines (docstring and blank lines included), longest first."""
    sizes = [
        ClassSize(m.name, node.name, (node.end_lineno or node.lineno) - node.lineno + 1)
        for m in modules.values()
        for node in ast.walk(m.tree)
        if isinstance(node, ast.ClassDef)
    ]
    return sorted(sizes, key=lambda c: (-c.lines, c.module, c.name))


def arrows(modules: dict[str, Module]) -> Iterable[tuple[str, str]]:
    for module in modules.values():
        for target in sorted(module.imports):
            yield module.name, target


def report(root: Path = ROOT) -> str:
    modules = load(root)
    files = [p for p in (root / PACKAGE).rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    graph = {m.name: m.imports for m in modules.values()}
    lines = [
        f"files in camera/: {len(files)} ({len(modules)} Python modules, "
        f"{sum(m.lines for m in modules.values()):,} lines)",
        f"import arrows between modules: {sum(len(v) for v in graph.values())}",
    ]
    module_cycles = cycles(graph)
    lines.append(f"module cycles: {len(module_cycles)}")
    lines += [f"  {' <-> '.join(c)}" for c in module_cycles]
    unit_cycles = cycles(unit_graph(modules))
    lines.append(f"cycles between packages: {len(unit_cycles)}")
    lines += [f"  {' <-> '.join(c)}" for c in unit_cycles]
    lines.append("classes over 200 lines:")
    lines += [f"  {c.lines:4}  {c.module}.{c.name}" for c in classes(modules) if c.lines > 200]
    return "\n".join(lines)


if __name__ == "__main__":
    print(report())  # noqa: T201

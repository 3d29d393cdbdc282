"""Write ``config/ronda.example.yaml`` and ``docs/configuration.md`` from the config models.

The models are the one place an option is documented: its type, bounds and default come from the
pydantic field, its explanation from the attribute docstring under it.  Generating both files from
there means the example config and the reference can never drift from what Ronda accepts; a test
runs ``--check`` and fails when a committed file differs from what this module writes.

    python -m tools.config_reference            # rewrite both files
    python -m tools.config_reference --check    # exit 1 and name the stale files
"""

from __future__ import annotations

import argparse
import enum
import re
import sys
import textwrap
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import annotated_types
import yaml
from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

from camera.config import RondaConfig

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = Path("config/ronda.example.yaml")
REFERENCE = Path("docs/configuration.md")
WIDTH = 98

EXAMPLE_HEADER = """\
# Ronda configuration: every option, with its default value and what it does.
#
# Generated from the configuration models by `python -m tools.config_reference`: edit the
# models' docstrings, not this file.  Copy it to /etc/ronda/ronda.yaml (the service) or
# ~/.config/ronda/ronda.yaml and keep only what you change: every section and every key is
# optional, and a nested option can be set alone (the rest keeps its default).  Unknown keys,
# wrong types and out-of-range values are refused at start with the file, the key path and the
# reason (exit 2).  `ronda doctor` checks a configuration end to end.
"""

REFERENCE_HEADER = """\
# Configuration reference

<!-- Generated from the configuration models by `python -m tools.config_reference`;
     edit the models' docstrings, not this page. -->

Ronda reads one YAML file: `--config FILE`, else `$RONDA_CONFIG`, else `/etc/ronda/ronda.yaml`,
else `~/.config/ronda/ronda.yaml`, else the built-in defaults below. Every section and every
key is optional; `config/ronda.example.yaml` is the same list as a file to copy from. A mistake
is refused at start with the file, the key path and the reason (exit code 2).
"""


# -- reading the models ----------------------------------------------------------------------
def section_type(field: FieldInfo) -> type[BaseModel] | None:
    """The model class of a nested section, or None for a plain option."""
    annotation = field.annotation
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def clean(text: str | None) -> str:
    """A docstring as one paragraph of prose: reST ``code`` becomes Markdown `code`."""
    if not text:
        return ""
    text = textwrap.dedent(text).strip()
    return re.sub(r"``([^`]+)``", r"`\1`", " ".join(text.split()))


def describe(field: FieldInfo, model: type[BaseModel] | None = None) -> str:
    """The field's own docstring, else (for a section) its class docstring."""
    return clean(field.description) or (clean(model.__doc__) if model is not None else "")


def plain(value: Any) -> Any:
    """A default as YAML-ready data (paths as strings, tuples as lists, secrets hidden)."""
    if isinstance(value, BaseModel):
        return {k: plain(getattr(value, k)) for k in type(value).model_fields}
    if isinstance(value, SecretStr):
        return None
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def type_text(annotation: Any) -> str:
    """A short human form of a field's type, with its bounds: ``float ≥ 0, ≤ 1 or null``."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        base, *metadata = args
        bounds = [b for item in metadata for b in _bounds(item)]
        return type_text(base) + (", " + ", ".join(bounds) if bounds else "")
    if origin in (typing.Union, types.UnionType):
        parts = [type_text(a) for a in args if a is not type(None)]
        optional = len(parts) < len(args)
        return " or ".join(parts) + (" or null" if optional else "")
    if origin is typing.Literal:
        return " \\| ".join(f"`{a}`" for a in args)
    if origin in (list, tuple):
        inner = type_text(args[0]) if args else "value"
        return f"list of {inner}"
    if origin is dict:
        return f"mapping of {type_text(args[1])}" if len(args) == 2 else "mapping"
    if annotation is SecretStr:
        return "secret string"
    if isinstance(annotation, type):
        return {"str": "string", "bool": "true/false", "PosixPath": "path", "Path": "path"}.get(
            annotation.__name__, annotation.__name__
        )
    return str(annotation)


def _bounds(item: Any) -> Iterator[str]:
    """Bounds held by one piece of ``Annotated`` metadata (annotated-types or a FieldInfo)."""
    sources = item.metadata if isinstance(item, FieldInfo) else [item]
    for bound in sources:
        if isinstance(bound, annotated_types.Ge):
            yield f"≥ {bound.ge}"
        elif isinstance(bound, annotated_types.Gt):
            yield f"> {bound.gt}"
        elif isinstance(bound, annotated_types.Le):
            yield f"≤ {bound.le}"
        elif isinstance(bound, annotated_types.Lt):
            yield f"< {bound.lt}"


def field_type(field: FieldInfo) -> str:
    bounds = [b for item in field.metadata for b in _bounds(item)]
    text = type_text(field.annotation)
    return text + (", " + ", ".join(bounds) if bounds else "")


# -- the example file --------------------------------------------------------------------------
def comment(text: str, indent: int) -> list[str]:
    prefix = " " * indent + "# "
    return textwrap.wrap(text, WIDTH, initial_indent=prefix, subsequent_indent=prefix)


def yaml_value(key: str, value: Any, indent: int) -> list[str]:
    """``key: value``; a collection in flow style (``[[0, 0], [1, 0], ...]``) when it fits on
    the line, else as a block."""
    flow = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10_000)
    flow = flow.strip().removesuffix("...").strip()
    line = " " * indent + f"{key}: {flow}"
    if len(line) <= WIDTH:
        return [line]
    block = yaml.safe_dump({key: value}, default_flow_style=False, allow_unicode=True)
    return [" " * indent + text for text in block.rstrip("\n").split("\n")]


def example_lines(
    model: type[BaseModel], values: BaseModel, described: set[type[BaseModel]], indent: int = 0
) -> list[str]:
    """The options of ``model`` with the values of ``values``.  A section class used more than
    once (every rung of a governor ladder) has its options explained at the first use only."""
    explain = model not in described
    described.add(model)
    lines: list[str] = []
    for name, field in model.model_fields.items():
        nested = section_type(field)
        if indent == 0 and lines:
            lines.append("")
        if explain or nested is not None:
            lines += comment(describe(field, nested), indent)
        value = getattr(values, name)
        if nested is not None:
            lines.append(" " * indent + f"{name}:")
            lines += example_lines(nested, value, described, indent + 2)
        else:
            lines += yaml_value(name, plain(value), indent)
    return lines


def render_example() -> str:
    body = "\n".join(example_lines(RondaConfig, RondaConfig(), set()))
    return EXAMPLE_HEADER + "\n" + body + "\n"


# -- the reference page ------------------------------------------------------------------------
def inline_default(value: Any) -> str:
    dumped = yaml.safe_dump(plain(value), default_flow_style=True, width=10_000).strip()
    dumped = dumped.removesuffix("\n...").removesuffix("...").strip()
    return f"`{dumped}`"


def reference_sections(
    model: type[BaseModel], values: BaseModel, path: str, depth: int, intro: str = ""
) -> list[str]:
    rows: list[str] = []
    nested_parts: list[str] = []
    for name, field in model.model_fields.items():
        nested = section_type(field)
        key = f"{path}.{name}" if path else name
        if nested is not None:
            nested_parts += reference_sections(
                nested, getattr(values, name), key, depth + 1, clean(field.description)
            )
            continue
        text = describe(field).replace("|", "\\|")
        default = inline_default(getattr(values, name)).replace("|", "\\|")
        rows.append(f"| `{name}` | {field_type(field)} | {default} | {text} |")
    lines = [f"{'#' * min(depth, 4)} `{path}`", ""]
    lines += [f"{text}\n" for text in (intro, clean(model.__doc__)) if text]
    if rows:
        lines += ["| option | type | default | what it does |", "|---|---|---|---|", *rows, ""]
    return lines + nested_parts


def render_reference() -> str:
    lines = [REFERENCE_HEADER]
    defaults = RondaConfig()
    for name, field in RondaConfig.model_fields.items():
        nested = section_type(field)
        if nested is None:  # a top-level plain option (none today): a section of one
            lines += [f"## `{name}`", "", describe(field), ""]
            continue
        lines += reference_sections(nested, getattr(defaults, name), name, 2)
    return "\n".join(lines).rstrip("\n") + "\n"


# -- command line -----------------------------------------------------------------------------
def outputs() -> dict[Path, str]:
    return {EXAMPLE: render_example(), REFERENCE: render_reference()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.config_reference")
    parser.add_argument("--check", action="store_true", help="only report stale files")
    parser.add_argument("--root", type=Path, default=REPO, help="repository root")
    args = parser.parse_args(argv)
    stale = []
    for relative, text in outputs().items():
        target = args.root / relative
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current == text:
            continue
        stale.append(str(relative))
        if not args.check:
            target.write_text(text, encoding="utf-8")
    if args.check and stale:
        sys.stderr.write(f"stale: {', '.join(stale)}; run: python -m tools.config_reference\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

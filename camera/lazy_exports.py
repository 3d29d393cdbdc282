"""Package names that load their module on first use (PEP 562 ``__getattr__``).

Why: ``camera.mqtt.config`` and ``camera.store.config`` are part of every configuration, and
importing a submodule runs its package's ``__init__`` first; an ``__init__`` that imported the
alert sink or the event store would make every command that reads a configuration (``ronda
home`` among them) load OpenCV.  Type checkers still see the names (``TYPE_CHECKING`` imports
in each package).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, homes: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: ``homes`` maps each name to its submodule."""

    def __getattr__(name: str) -> Any:
        module = homes.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{module}"), name)

    return __getattr__

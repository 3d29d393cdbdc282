"""Value types for the command line: numbers in a range, paths that can name a file; and the
type of the hook each package registers its commands with.

argparse's ``type=float`` takes ``nan`` and ``inf``: ``ronda flush --timeout nan`` waited
forever, since every comparison with NaN is false.  Every number option goes through one of
these, with the range it makes sense in, and every path option refuses the empty string (which
would silently mean the current directory) and NUL bytes (which no file name can hold).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

AddCommand = Callable[[str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser]
"""``camera.cli``'s ``add(name, handler, help)``, handed to every package's ``register`` so a
command's arguments live beside its code."""


class OneLineParser(argparse.ArgumentParser):
    """A usage mistake is one line on stderr (exit code 2), like every other Ronda error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"ronda: {message} (see {self.prog} --help)\n")


def seconds(low: float, high: float) -> Callable[[str], float]:
    """A finite number of seconds in ``low..high``."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
        if not math.isfinite(value) or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be a number of seconds in {low:g}..{high:g}")
        return value

    return parse


def count(low: int, high: int) -> Callable[[str], int]:
    """A whole number in ``low..high``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be a whole number in {low}..{high:,}")
        return value

    return parse


def path(text: str) -> Path:
    """A file or directory name: not empty, no NUL byte."""
    if not text:
        raise argparse.ArgumentTypeError("is empty (the current directory is not assumed)")
    if "\0" in text:
        raise argparse.ArgumentTypeError("contains a NUL byte")
    return Path(text)

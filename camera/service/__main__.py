"""``sudo python3 -m camera.service install``: the installer on a bare system Python.

On a fresh Pi nothing of Ronda's stack (numpy, OpenCV, pydantic, the TFLite runtime) is
installed yet; creating the service venv is the installer's job.  ``ronda service ...`` needs
that stack just to start, so this entry point parses the same ``service`` command (the same
``register``) with the standard library only.  Once installed, ``ronda service ...`` is
equivalent.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from camera.cli.service import cmd_service, register


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m camera.service")

    def add(
        name: str, _handler: Callable[[argparse.Namespace], int], help_text: str
    ) -> argparse.ArgumentParser:
        if name == "service":
            parser.description = help_text
            return parser
        return argparse.ArgumentParser(add_help=False)  # doctor, status: need the full stack

    register(add)
    return cmd_service(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())

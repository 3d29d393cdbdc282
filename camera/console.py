"""What a person at a terminal sees: log lines and the replay's progress bar, never mixed.

The journal (systemd) collects stderr as it is; on a terminal the progress bar (tqdm, a small
pure-Python library) owns the last line and log records are written above it, so a warning
during a replay never lands in the middle of the bar.
"""

from __future__ import annotations

import logging
import sys
from types import TracebackType

from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"


def setup_logging(level: str, quiet: bool = False, verbose: bool = False) -> None:
    """``quiet``: warnings only (a summary follows); ``verbose``: DEBUG, third-party chatter
    included (the TFLite runtime's banner is logged at DEBUG by ``camera.detect.runtime``)."""
    stream = sys.stderr
    fmt = ("%(asctime)s " + LOG_FORMAT) if stream.isatty() else LOG_FORMAT
    chosen = logging.DEBUG if verbose else logging.WARNING if quiet else level
    logging.basicConfig(level=chosen, format=fmt, stream=stream)
    logging.getLogger("camera").setLevel(chosen)


class ProgressBar:
    """Frames replayed out of the total, on a terminal only (silent in the journal and in
    pipes).  Use it as a context manager: while it is open, log records print above the bar."""

    def __init__(self, total: int, unit: str = "frame") -> None:
        self._bar = tqdm(
            total=max(total, 1),
            unit=unit,
            disable=not sys.stderr.isatty(),
            file=sys.stderr,
            dynamic_ncols=True,
            leave=True,
        )
        self._redirect = logging_redirect_tqdm(tqdm_class=tqdm)

    def __call__(self, _index: int) -> None:
        self._bar.update(1)

    def __enter__(self) -> ProgressBar:
        if not self._bar.disable:
            self._redirect.__enter__()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._bar.close()
        if not self._bar.disable:
            self._redirect.__exit__(kind, error, trace)

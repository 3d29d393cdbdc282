"""Read one sysfs value (a temperature, a battery capacity) without ever blocking on it.

The governor polls inside the frame loop.  A path configured by mistake (a FIFO blocks ``open``
forever, ``/dev/zero`` never ends, a directory, a binary file) must cost a failed reading, never
a stalled camera: only regular files are read, and at most a page.
"""

from __future__ import annotations

from pathlib import Path

from camera.files import UnusableFile, read_small

MAX_VALUE_BYTES = 4096  # a sysfs attribute is at most a page


def read_value(path: Path) -> str:
    """The value at ``path`` as stripped text; raises :class:`UnusableFile` (the reason in a
    few words) for anything that is not a small regular file of text."""
    data = read_small(path, MAX_VALUE_BYTES)
    try:
        return data.decode("ascii").strip()
    except UnicodeDecodeError:
        raise UnusableFile("holds binary data, not a value") from None

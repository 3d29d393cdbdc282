"""Reading a file someone named (in the config, on the command line) without hanging on it.

A path can name anything: a FIFO blocks ``open()`` until a writer appears, ``/dev/zero`` never
ends, a directory or a symlink loop fails in its own way, a 300-character name is too long.  Every
small file Ronda reads (the config, a password, a sensor's sysfs value, the models manifest)
comes through :func:`read_small`, which opens without blocking, accepts only regular files and
reads at most a bound; :func:`file_problem` says in a few words why a path is not a readable
regular file, for checks that hand the path to something else (OpenCV, SQLite, OpenSSL).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path


class UnusableFile(Exception):
    """``str()`` is why, in a few words printed after the path and a colon: "is a directory"."""


_KINDS = (
    (stat.S_ISDIR, "is a directory"),
    (stat.S_ISFIFO, "is not a regular file (a FIFO)"),
    (stat.S_ISSOCK, "is not a regular file (a socket)"),
    (stat.S_ISCHR, "is not a regular file (a character device)"),
    (stat.S_ISBLK, "is not a regular file (a block device)"),
)


def describe_mode(mode: int) -> str | None:
    """None for a regular file, else what it is instead."""
    if stat.S_ISREG(mode):
        return None
    return next((text for test, text in _KINDS if test(mode)), "is not a regular file")


def describe_os_error(error: OSError) -> str:
    """``[Errno 2] No such file or directory: 'x'`` -> ``does not exist``; others by strerror
    (``permission denied``, ``file name too long``), without the path the caller prints."""
    if error.errno == errno.ENOENT:
        return "does not exist"
    text = error.strerror or str(error)
    return text[:1].lower() + text[1:]


def file_problem(path: Path | str) -> str | None:
    """None if ``path`` is an existing regular file (symlinks followed), else why not."""
    try:
        return describe_mode(os.stat(path).st_mode)
    except ValueError:
        return "contains a NUL byte"
    except OSError as error:
        return describe_os_error(error)


def read_small(path: Path | str, limit: int) -> bytes:
    """The whole content of the regular file ``path``, at most ``limit`` bytes.

    Raises :class:`UnusableFile` for anything else (a FIFO is opened non-blocking, so it is
    refused rather than waited on).  The size is judged by reading, not by ``st_size``: sysfs
    reports 4096 for every attribute.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except ValueError:
        raise UnusableFile("contains a NUL byte") from None
    except OSError as error:
        raise UnusableFile(describe_os_error(error)) from None
    try:
        kind = describe_mode(os.fstat(fd).st_mode)
        if kind is not None:
            raise UnusableFile(kind)
        data = os.read(fd, limit + 1)
        if len(data) > limit:
            size = os.fstat(fd).st_size
            shown = f"{size:,} bytes" if size > limit else "larger"
            raise UnusableFile(f"is too large ({shown}; at most {limit:,} expected)")
        return data
    except OSError as error:
        raise UnusableFile(describe_os_error(error)) from None
    finally:
        os.close(fd)


def shown(path: Path | str) -> str:
    """A path as it can be printed on one line (control characters escaped)."""
    text = str(path)
    if text.isprintable():
        return text
    return text.encode("unicode_escape", "backslashreplace").decode("ascii")

"""The one error the detector raises to its caller."""

from __future__ import annotations


class ModelError(Exception):
    """A model cannot be used: missing, corrupt, sha256 mismatch, unreadable manifest, no runtime.

    The message is one line meant for the person running the camera (``ronda`` prints it as is),
    so it names the file and what to do, and never carries a traceback.
    """

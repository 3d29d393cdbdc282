"""The recorder's user-facing error (kept free of PyAV so the CLI can name it cheaply)."""


class EncoderError(Exception):
    """The configured encoder is missing or refused the stream (one user-facing line)."""

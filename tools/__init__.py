"""The maintainers' tools, run from a checkout and never installed with Ronda:
``python -m tools.config_reference`` (the example config and the configuration reference, from
the config models) and ``python -m tools.links`` (every public link, from pyproject.toml)."""

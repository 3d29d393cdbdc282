"""The eval set: composed scenes and real-footage variants, built by ``python -m tests.evalset``."""

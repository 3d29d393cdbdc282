"""Ronda: an on-device person/pet security camera for the Raspberry Pi."""

__version__ = "0.1.0"

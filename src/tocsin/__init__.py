"""Tocsin: an open-source incident response platform."""

__version__ = "0.1.0"

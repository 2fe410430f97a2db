"""ASGI entry point for uvicorn workers: builds the container from the environment."""

from __future__ import annotations

from ..bootstrap import build
from .app import create_asgi

app = create_asgi(build())

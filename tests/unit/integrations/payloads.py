"""Real inbound payloads from ../shared/data/payloads, read in place (never copied here)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PAYLOADS = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "payloads"
CAPTURED = "alertmanager-0.25.0/"  # these files wrap the request: {method, path, headers, body}


def payload(name: str) -> Any:
    """The JSON body of fixture `name` (relative to the payloads folder)."""
    data = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    return data["body"] if name.startswith(CAPTURED) else data


def headers(name: str) -> dict[str, str]:
    """The captured request's headers, lower-cased as the parsers receive them."""
    data = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    return {k.lower(): v for k, v in data.get("headers", {}).items()}

"""Jinja2 environment: autoescaping, and times shown in the viewer's time zone."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi.templating import Jinja2Templates

from .security import csrf_token


def localtime(value: datetime | None, tz: str = "UTC", fmt: str = "%Y-%m-%d %H:%M:%S %Z") -> str:
    if value is None:
        return "—"
    try:
        zone = ZoneInfo(tz or "UTC")
    except Exception:  # noqa: BLE001 - an unknown zone falls back to UTC
        zone = ZoneInfo("UTC")
    return value.astimezone(zone).strftime(fmt)


def minutes(value: int | None) -> str:
    if not value:
        return "—"
    if value % 1440 == 0:
        return f"{value // 1440} day{'s' if value >= 2880 else ''}"
    if value % 60 == 0:
        return f"{value // 60} h"
    return f"{value} min"


def make_templates(directory: Path) -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(directory))
    templates.env.filters["localtime"] = localtime
    templates.env.filters["minutes"] = minutes
    templates.env.globals["csrf_token"] = csrf_token
    return templates

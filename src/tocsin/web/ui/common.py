"""Helpers for UI handlers: rendering with the viewer in context, form parsing."""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from fastapi import Request
from fastapi.responses import HTMLResponse

from ...domain.auth import Actor

# Canonical Area/City zones (and UTC); legacy aliases like US/Eastern or Etc/GMT+5 only
# lengthen the list people scroll through.
LEGACY = ("Etc/", "SystemV/", "US/", "Canada/", "Brazil/", "Mexico/", "Chile/")
TIME_ZONES = ["UTC"] + sorted(z for z in available_timezones()
                              if "/" in z and not z.startswith(LEGACY))


def render(request: Request, template: str, actor: Actor | None, status_code: int = 200,
           **ctx: Any) -> HTMLResponse:
    templates = request.app.state.templates
    return templates.TemplateResponse(request, template, {
        "actor": actor, "tz": actor.time_zone if actor else "UTC", **ctx},
        status_code=status_code)


def flash(message: str, kind: str = "ok") -> str:
    return f'<div class="flash {kind}" role="status">{message}</div>'

"""Configuration pages: severity levels and rules, intake forms, escalation policies,
schedules, incident roles and playbooks — edited as YAML, validated."""

from __future__ import annotations

import yaml
from fastapi import APIRouter, Form, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response

from ...domain.auth import Actor
from ...domain.errors import NotFound
from ...services import config, escalation_policies, roles, schedules
from ...services.config import ConfigInvalid, ConfigProblem
from ..security import container, ui
from .common import render

router = APIRouter(prefix="/config", include_in_schema=False)


def _dump(data: object) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


@router.get("")
def index(request: Request, actor: Actor = ui("read")) -> Response:
    c = container(request)
    return render(request, "config/index.html", actor,
                  levels=config.list_levels(c.uow(read_only=True)),
                  rules=config.get_rules(c.uow(read_only=True)),
                  forms=config.list_forms(c.uow(read_only=True)),
                  policies=escalation_policies.list_as_config(c.uow(read_only=True)),
                  schedules=schedules.list_schedules(c.uow(read_only=True)),
                  roles=roles.list_roles(c.uow(read_only=True)))


@router.get("/export")
def export(request: Request, _: Actor = ui("read")) -> Response:
    text = config.export_text(container(request).uow(read_only=True))
    return PlainTextResponse(text, media_type="application/yaml", headers={
        "Content-Disposition": 'attachment; filename="tocsin-config.yaml"'})


EDITABLE = ("severity_levels", "severity_rules", "severity_fallback", "forms", "calendars",
            "routes", "inhibit_rules", "alerting", "escalation_policies", "schedules",
            "incident_roles", "playbooks")


def _section_key(section: str) -> str:
    key = "forms" if section.startswith("form:") else section
    if key not in EDITABLE:
        raise NotFound(f"no configuration section {section!r}")
    return key


@router.get("/edit")
def edit_page(request: Request, section: str = "severity_rules",
              actor: Actor = ui("config:write")) -> Response:
    _section_key(section)
    data = config.export_data(container(request).uow(read_only=True))
    if section.startswith("form:"):
        name = section[5:]
        item = next((f for f in data["forms"] if f["name"] == name), None)
        text = _dump({"forms": [item]}) if item else _dump({"forms": []})
    else:
        text = _dump({section: data.get(section, [])})
    return render(request, "config/edit.html", actor, section=section, text=text, problems=[])


@router.post("/edit")
def save(request: Request, section: str = Form(...), text: str = Form(...),
         actor: Actor = ui("config:write")) -> Response:
    key = _section_key(section)
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError:
        loaded = None  # apply_text reports the line
    if isinstance(loaded, dict) and set(loaded) - {key}:
        others = ", ".join(sorted(set(loaded) - {key}))
        return render(request, "config/edit.html", actor, status_code=422, section=section,
                      text=text, problems=[ConfigProblem(f"({section})", others, None,
                                                         f"this editor only saves {key}")])
    try:
        config.apply_text(container(request).uow(), actor, text, f"({section})")
    except ConfigInvalid as exc:
        return render(request, "config/edit.html", actor, status_code=422, section=section,
                      text=text, problems=exc.problems)
    request.session["flash"] = {"kind": "ok", "message": f"Saved {key.replace('_', ' ')}."}
    return RedirectResponse("/routes" if key in ("routes", "inhibit_rules", "calendars")
                            else "/config", status_code=303)

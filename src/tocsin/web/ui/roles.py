"""Incident roles and checkpoints in the UI: the incident's response card (who holds each
role, handoffs, the checkpoints with their checklists) and the roles roster page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool as off_loop

from ...domain.auth import Actor
from ...domain.errors import Conflict
from ...services import checkpoints, roles, schedules, users
from ..schemas import Id
from ..security import container, ui
from .common import render

router = APIRouter(include_in_schema=False)


def response_context(request: Request, incident_id: int) -> dict:
    c = container(request)
    return {"roles": roles.incident_roles(c.uow(read_only=True), incident_id),
            "tasks": checkpoints.tasks_for(c.uow(read_only=True), incident_id),
            "now": c.clock.now()}


@router.get("/incidents/{incident_id}/response")
def response_partial(incident_id: Id, request: Request, actor: Actor = ui("read")) -> Response:
    c = container(request)
    return render(request, "incidents/_response.html", actor, inc_id=incident_id,
                  people=users.list_users(c.uow(read_only=True)),
                  **response_context(request, incident_id))


@router.post("/incidents/{incident_id}/roles/{key}")
async def hand_off(incident_id: Id, key: str, request: Request,
                   actor: Actor = ui("incidents:write")) -> Response:
    data = await request.form()
    person = str(data.get("person") or "").strip()
    if person == "me":
        person = actor.user_id
    await off_loop(roles.assign, container(request).uow(), actor, incident_id, key,
                   person or None, str(data.get("reason") or ""))
    return RedirectResponse(f"/incidents/{incident_id}#response", status_code=303)


@router.post("/incidents/{incident_id}/roles/{key}/release")
async def release(incident_id: Id, key: str, request: Request,
                  actor: Actor = ui("incidents:write")) -> Response:
    data = await request.form()
    await off_loop(roles.release, container(request).uow(), actor, incident_id, key,
                   str(data.get("reason") or ""))
    return RedirectResponse(f"/incidents/{incident_id}#response", status_code=303)


@router.post("/incidents/{incident_id}/tasks/{task_id}/done")
async def task_done(incident_id: Id, task_id: Id, request: Request,
                    actor: Actor = ui("incidents:write")) -> Response:
    data = await request.form()
    await off_loop(checkpoints.complete, container(request).uow(), actor, incident_id, task_id,
                   str(data.get("note") or ""))
    return RedirectResponse(f"/incidents/{incident_id}#response", status_code=303)


@router.post("/incidents/{incident_id}/tasks/{task_id}/checklist/{index}")
async def check_item(incident_id: Id, task_id: Id, index: int, request: Request,
                     actor: Actor = ui("incidents:write")) -> Response:
    data = await request.form()
    await off_loop(checkpoints.check_item, container(request).uow(), actor, incident_id,
                   task_id, index, str(data.get("done")) == "1")
    if request.headers.get("HX-Request"):
        return response_partial(incident_id, request, actor)
    return RedirectResponse(f"/incidents/{incident_id}#response", status_code=303)


@router.get("/roles")
def roster_page(request: Request, actor: Actor = ui("read"), error: str | None = None,
                status_code: int = 200) -> Response:
    c = container(request)
    roster = roles.roster(c.uow(read_only=True))
    return render(request, "roles.html", actor, status_code=status_code, error=error,
                  roster=roster, role_names={e.role.key: e.role.name for e in roster},
                  playbooks=checkpoints.list_playbooks(c.uow(read_only=True)),
                  schedules=schedules.list_schedules(c.uow(read_only=True)),
                  people=users.list_users(c.uow(read_only=True)))


@router.post("/roles")
async def save_role(request: Request, actor: Actor = ui("config:write")) -> Response:
    """Add a role from the roster page's form (sources as `schedule:ID`, `person:ID` or
    `service_oncall`); changing one is done in its YAML, which shows every field."""
    data = await request.form()
    key = str(data.get("key") or "").strip()

    def source(field: str) -> dict | None:
        raw = str(data.get(field) or "")
        if raw == "service_oncall":
            return {"type": "service_oncall"}
        kind, _, ident = raw.partition(":")
        return {"type": kind, "id": int(ident)} if ident.isdigit() else None

    spec = {"key": key, "name": str(data.get("name") or ""),
            "responsibilities": str(data.get("responsibilities") or ""),
            "auto_severities": [s for s in data.getlist("auto_severities") if s]}
    for field in ("primary", "alternate"):
        if found := source(field):
            spec[field] = found
    try:
        await off_loop(roles.put_role, container(request).uow(), actor, spec, True)
    except Conflict as exc:
        return roster_page(request, actor, error=exc.message, status_code=409)
    return RedirectResponse("/roles", status_code=303)

"""Incident pages: the list, the intake form with a live severity preview, the record."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool as off_loop
from starlette.datastructures import UploadFile

from ...domain.auth import Actor
from ...domain.errors import DomainError, ValidationFailed
from ...services import alerting_config, catalog, classify, config, escalation, users
from ...services import alerts as alert_svc
from ...services import incidents as svc
from ...store.alerting_repos import AlertFilter
from ...store.repositories import IncidentFilter
from ..api.incidents import attachment_response
from ..schemas import Id
from ..security import container, ui
from .common import render
from .roles import response_context

router = APIRouter(prefix="/incidents", include_in_schema=False)
PREFIX = "a_"


@router.get("")
def list_page(request: Request, status: str = "open", severity: str = "", kind: str = "",
              actor: Actor = ui("read")) -> Response:
    status_filter = "triggered,acknowledged,mitigated" if status == "open" else status
    items, total = svc.list_incidents(container(request).uow(read_only=True), IncidentFilter(
        status=status_filter or None, severity=severity or None, kind=kind or None, limit=200))
    template = "incidents/_rows.html" if request.headers.get("HX-Request") else \
        "incidents/list.html"
    return render(request, template, actor, items=items, total=total, status=status,
                  severity=severity, kind=kind)


def _form_context(request: Request, service: str | None,
                  form_name: str | None = None) -> dict[str, Any]:
    c = container(request)
    services = catalog.list_services(c.uow(read_only=True))
    chosen = service or (services[0].name if services else None)
    fdef, choices = None, []
    if chosen:
        choices, fdef = classify.intake_forms(c.uow(read_only=True), chosen, form_name)
    return {"services": services, "service": chosen, "form": fdef, "forms": choices,
            "people": users.list_users(c.uow(read_only=True)),
            "teams": catalog.list_teams(c.uow(read_only=True))}


@router.get("/new")
def new_page(request: Request, service: str | None = None, form: str | None = None,
             actor: Actor = ui("incidents:write")) -> Response:
    ctx = _form_context(request, service, form)
    return render(request, "incidents/new.html", actor, values={}, errors={}, **ctx)


@router.get("/new/fields")
def new_fields(request: Request, service: str, form: str | None = None,
               actor: Actor = ui("incidents:write")) -> Response:
    ctx = _form_context(request, service, form)
    q = request.query_params
    values: dict[str, Any] = {k[len(PREFIX):]: (q.getlist(k) if len(q.getlist(k)) > 1 else q[k])
                              for k in q if k.startswith(PREFIX)}  # answers survive the switch
    return render(request, "incidents/_fields.html", actor, values=values, errors={}, **ctx)


async def _attributes(request: Request, form_name: str | None) -> dict[str, Any]:
    """Read the intake form's fields (prefixed a_) from the submitted form data."""
    data = await request.form()
    fdef = None
    if form_name:
        form = await off_loop(config.get_form, container(request).uow(read_only=True), form_name)
        fdef = classify.formdom.parse_form(form["spec"], form_name)
    attrs: dict[str, Any] = {}
    for key in {k for k in data if k.startswith(PREFIX)}:
        name = key[len(PREFIX):]
        ftype = fdef.field(name).type if fdef and fdef.field(name) else "text"
        if ftype == "multi_select":
            attrs[name] = [v for v in data.getlist(key) if v]
        elif ftype == "attachment":
            up = data.get(key)
            if isinstance(up, UploadFile) and up.filename:
                attrs[name] = {"filename": up.filename, "content_type": up.content_type,
                               "content_base64": base64.b64encode(await up.read()).decode()}
        else:
            value = data.get(key)
            if isinstance(value, str) and value.strip() != "":
                attrs[name] = value
    return attrs


@router.post("/preview")
async def preview(request: Request, actor: Actor = ui("incidents:write")) -> Response:
    data = await request.form()
    service = str(data.get("service") or "")
    result, error = None, None
    if not any(k.startswith(PREFIX) and v for k, v in data.multi_items()):
        return render(request, "incidents/_preview.html", actor, result=None, error=None)
    try:
        attrs = await _attributes(request, str(data.get("form") or "") or None)
        uow = container(request).uow(read_only=True)
        result = await off_loop(classify.evaluate, uow, service, attrs,
                                str(data.get("form") or "") or None, partial=True)
    except DomainError as exc:
        error = exc.message
    return render(request, "incidents/_preview.html", actor, result=result, error=error)


@router.post("/new")
async def declare(request: Request, actor: Actor = ui("incidents:write")) -> Response:
    data = await request.form()
    service, form_name = str(data.get("service") or ""), str(data.get("form") or "") or None
    title = str(data.get("title") or "")
    attrs = await _attributes(request, form_name)
    c = container(request)
    try:
        view = await off_loop(svc.declare, c.uow(), actor, svc.DeclareInput(
            title=title, service=service, attributes=attrs, form=form_name,
            description=str(data.get("description") or "")), c.settings.max_attachment_bytes)
    except ValidationFailed as exc:
        ctx = await off_loop(_form_context, request, service, form_name)
        errors = {e.field: e.message for e in exc.errors}
        values = {**{k: v for k, v in attrs.items() if not isinstance(v, dict)},
                  "title": title, "description": data.get("description") or ""}
        return render(request, "incidents/new.html", actor, status_code=422, values=values,
                      errors=errors, summary="Some answers need a fix: see the fields marked "
                                             "below.", **ctx)
    return RedirectResponse(f"/incidents/{view.id}", status_code=303)


@router.get("/{incident_id}")
def show(incident_id: Id, request: Request, actor: Actor = ui("read")) -> Response:
    c = container(request)
    view = svc.get(c.uow(read_only=True), incident_id)
    entries = svc.timeline(c.uow(read_only=True), incident_id)
    related, _ = alert_svc.list_alerts(c.uow(read_only=True),
                                       AlertFilter(incident_id=incident_id, limit=100))
    return render(request, "incidents/show.html", actor, inc=view, entries=entries,
                  alerts=related, calendars=alerting_config.load_names(c.uow(read_only=True)),
                  escalations=escalation.escalations_for(c.uow(read_only=True), incident_id),
                  notifications=escalation.notifications_for(c.uow(read_only=True), incident_id),
                  people=users.list_users(c.uow(read_only=True)),
                  services=catalog.list_services(c.uow(read_only=True)),
                  **response_context(request, incident_id))


@router.get("/{incident_id}/summary")
def summary_partial(incident_id: Id, request: Request, actor: Actor = ui("read")) -> Response:
    view = svc.get(container(request).uow(read_only=True), incident_id)
    return render(request, "incidents/_summary.html", actor, inc=view)


@router.get("/{incident_id}/timeline")
def timeline_partial(incident_id: Id, request: Request, actor: Actor = ui("read")) -> Response:
    entries = svc.timeline(container(request).uow(read_only=True), incident_id)
    return render(request, "incidents/_timeline.html", actor, entries=entries,
                  inc_id=incident_id)


@router.get("/{incident_id}/notes/{entry_id}/edit")
def edit_note_form(incident_id: Id, entry_id: Id, request: Request,
                   actor: Actor = ui("incidents:write")) -> Response:
    versions = svc.entry_history(container(request).uow(read_only=True), incident_id, entry_id)
    return render(request, "incidents/_edit_note.html", actor, e=versions[0], inc_id=incident_id)


@router.get("/{incident_id}/entries/{entry_id}/history")
def history(incident_id: Id, entry_id: Id, request: Request,
            actor: Actor = ui("read")) -> Response:
    versions = svc.entry_history(container(request).uow(read_only=True), incident_id, entry_id)
    return render(request, "incidents/_history.html", actor, versions=versions)


@router.get("/{incident_id}/events")
async def events(incident_id: Id, request: Request, _: Actor = ui("read")) -> Response:
    """Server-sent events: `timeline` whenever the incident or its timeline changes."""
    c = container(request)

    def marker() -> tuple:
        return svc.change_marker(c.uow(read_only=True), incident_id)

    async def stream():  # noqa: ANN202
        seen = await asyncio.to_thread(marker)
        yield "retry: 3000\n\n"
        while not await request.is_disconnected():
            await asyncio.sleep(2)
            now = await asyncio.to_thread(marker)
            if now != seen:
                seen = now
                yield f"event: timeline\ndata: {now[1]}\n\n"
    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store"})


@router.post("/{incident_id}/action/{action}")
async def act(incident_id: Id, action: str, request: Request,
              actor: Actor = ui("incidents:write")) -> Response:
    data = await request.form()
    await off_loop(svc.transition, container(request).uow(), actor, incident_id, action,
                   str(data.get("note") or ""), _version(data))
    return RedirectResponse(f"/incidents/{incident_id}", status_code=303)


@router.post("/{incident_id}/severity")
async def severity(incident_id: Id, request: Request,
                   actor: Actor = ui("incidents:write")) -> Response:
    data = await request.form()
    await off_loop(svc.change_severity, container(request).uow(), actor, incident_id,
                   str(data.get("severity") or ""), str(data.get("reason") or ""),
                   _version(data))
    return RedirectResponse(f"/incidents/{incident_id}", status_code=303)


@router.post("/{incident_id}/edit")
async def edit(incident_id: Id, request: Request,
               actor: Actor = ui("incidents:write")) -> Response:
    data = await request.form()
    changes = {"title": str(data.get("title") or ""),
               "description": str(data.get("description") or ""),
               "owner_email": str(data.get("owner") or "") or None,
               "services": [s for s in data.getlist("services") if s]}
    await off_loop(svc.update, container(request).uow(), actor, incident_id, changes,
                   _version(data))
    return RedirectResponse(f"/incidents/{incident_id}", status_code=303)


@router.post("/{incident_id}/notes")
async def note(incident_id: Id, request: Request,
               actor: Actor = ui("incidents:write")) -> Response:
    data = await request.form()
    kind = str(data.get("kind") or "note")
    structured = {k: str(data.get(k) or "") for k in ("impact", "action", "next_step")}
    await off_loop(svc.add_note, container(request).uow(), actor, incident_id,
                   str(data.get("text") or ""), kind, structured)
    return RedirectResponse(f"/incidents/{incident_id}", status_code=303)


@router.post("/{incident_id}/notes/{entry_id}")
async def edit_note(incident_id: Id, entry_id: Id, request: Request,
                    actor: Actor = ui("incidents:write")) -> Response:
    data = await request.form()
    structured = {k: str(data.get(k) or "") for k in ("impact", "action", "next_step")}
    await off_loop(svc.edit_note, container(request).uow(), actor, incident_id, entry_id,
                   str(data.get("text") or ""), structured)
    return RedirectResponse(f"/incidents/{incident_id}", status_code=303)


@router.get("/{incident_id}/attachments/{attachment_id}")
def download(incident_id: Id, attachment_id: Id, request: Request,
             _: Actor = ui("read")) -> Response:
    att = svc.attachment(container(request).uow(read_only=True), incident_id, attachment_id)
    return attachment_response(att)


def _version(data: Any) -> int | None:
    raw = data.get("version")
    return int(raw) if raw and str(raw).isdigit() else None

"""Incidents over JSON: declare, list, read, work and annotate."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response

from ...domain.auth import Actor
from ...domain.errors import FieldError, ValidationFailed
from ...domain.forms import safe_content_type
from ...domain.incident import Status
from ...domain.severity import KINDS, SEVERITIES
from ...services import incidents as svc
from ...services.views import EntryView, IncidentView
from ...store.repositories import IncidentFilter
from ..schemas import (
    MAX_ID,
    Id,
    IncidentCreate,
    IncidentPatch,
    NoteBody,
    NoteEdit,
    Page,
    SeverityChange,
    TransitionBody,
)
from ..security import api, container

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])


@router.post("", status_code=201, response_model=IncidentView)
def declare(body: IncidentCreate, request: Request, response: Response,
            actor: Actor = api("incidents:write")) -> IncidentView:
    c = container(request)
    view = svc.declare(c.uow(), actor, svc.DeclareInput(
        title=body.title, service=body.service, attributes=body.attributes, form=body.form,
        description=body.description, affected_services=body.services, owner_email=body.owner),
        c.settings.max_attachment_bytes)
    response.headers["Location"] = f"/api/v1/incidents/{view.id}"
    return view


@router.get("", response_model=Page)
def list_incidents(request: Request, status: str | None = None, severity: str | None = None,
                   service: int | None = Query(None, ge=1, le=MAX_ID), kind: str | None = None,
                   limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=1_000_000),
                   _: Actor = api("read")) -> Page:
    _check_filter("status", status, [s.value for s in Status])
    _check_filter("severity", severity, list(SEVERITIES))
    _check_filter("kind", kind, list(KINDS))
    items, total = svc.list_incidents(container(request).uow(read_only=True), IncidentFilter(
        status=status, severity=severity, service_id=service, kind=kind, limit=limit,
        offset=offset))
    return Page(items=items, total=total)


def _check_filter(name: str, value: str | None, allowed: list[str]) -> None:
    bad = [v for v in (value or "").split(",") if value and v not in allowed]
    if bad:
        raise ValidationFailed([FieldError(name, f"{', '.join(bad)} is not one of "
                                                 f"{', '.join(allowed)}")], "invalid filter")


@router.get("/{incident_id}", response_model=IncidentView)
def get(incident_id: Id, request: Request, _: Actor = api("read")) -> IncidentView:
    return svc.get(container(request).uow(read_only=True), incident_id)


@router.patch("/{incident_id}", response_model=IncidentView)
def patch(incident_id: Id, body: IncidentPatch, request: Request,
          actor: Actor = api("incidents:write")) -> IncidentView:
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    if "owner" in changes:
        changes["owner_email"] = changes.pop("owner") or None
    return svc.update(container(request).uow(), actor, incident_id, changes, body.version)


@router.get("/{incident_id}/timeline", response_model=Page)
def timeline(incident_id: Id, request: Request, _: Actor = api("read")) -> Page:
    items = svc.timeline(container(request).uow(read_only=True), incident_id)
    return Page(items=items, total=len(items))


@router.get("/{incident_id}/timeline/{entry_id}/history", response_model=Page)
def history(incident_id: Id, entry_id: Id, request: Request, _: Actor = api("read")) -> Page:
    items = svc.entry_history(container(request).uow(read_only=True), incident_id, entry_id)
    return Page(items=items, total=len(items))


@router.post("/{incident_id}/severity", response_model=IncidentView)
def change_severity(incident_id: Id, body: SeverityChange, request: Request,
                    actor: Actor = api("incidents:write")) -> IncidentView:
    return svc.change_severity(container(request).uow(), actor, incident_id, body.severity,
                               body.reason, body.version)


@router.post("/{incident_id}/notes", status_code=201, response_model=EntryView)
def add_note(incident_id: Id, body: NoteBody, request: Request,
             actor: Actor = api("incidents:write")) -> EntryView:
    return svc.add_note(container(request).uow(), actor, incident_id, body.text, body.kind,
                        body.structured())


@router.put("/{incident_id}/notes/{entry_id}", response_model=EntryView)
def edit_note(incident_id: Id, entry_id: Id, body: NoteEdit, request: Request,
              actor: Actor = api("incidents:write")) -> EntryView:
    return svc.edit_note(container(request).uow(), actor, incident_id, entry_id, body.text,
                         body.structured())


@router.get("/{incident_id}/attachments/{attachment_id}")
def attachment(incident_id: Id, attachment_id: Id, request: Request,
               _: Actor = api("read")) -> Response:
    att = svc.attachment(container(request).uow(read_only=True), incident_id, attachment_id)
    return attachment_response(att)


def attachment_response(att) -> Response:  # noqa: ANN001
    """Always a download (never rendered inline); the name is RFC 5987-encoded."""
    ascii_name = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_"
                         for c in att.filename) or "attachment"
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(att.filename)}"
    return Response(att.data, media_type=safe_content_type(att.content_type), headers={
        "Content-Disposition": disposition, "X-Content-Type-Options": "nosniff"})


def _transition(action: str):  # noqa: ANN202
    def endpoint(incident_id: Id, request: Request, body: TransitionBody | None = None,
                 actor: Actor = api("incidents:write")) -> IncidentView:
        body = body or TransitionBody()
        return svc.transition(container(request).uow(), actor, incident_id, action, body.note,
                              body.version)
    endpoint.__name__ = action
    return endpoint


for _action in ("acknowledge", "mitigate", "resolve", "close", "reopen"):
    router.add_api_route(f"/{{incident_id}}/{_action}", _transition(_action), methods=["POST"],
                         response_model=IncidentView, name=_action,
                         summary=f"{_action.capitalize()} an incident")

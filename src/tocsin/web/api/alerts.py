"""Alert intake and triage over JSON: integrations, alerts, dead letters, silences, routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import Field

from ...domain.auth import Actor
from ...services import alerts as svc
from ...services import incidents as inc_svc
from ...services import intake
from ...services.views import IncidentView
from ...store.alerting_repos import AlertFilter
from ..schemas import MAX_ID, Id, Page, Strict
from ..security import api, container

router = APIRouter(prefix="/api/v1", tags=["alerts"])


class IntegrationCreate(Strict):
    name: str = Field(min_length=1, max_length=100)
    type: str
    service: str | int
    options: dict[str, Any] = Field(default_factory=dict)


class IntegrationPatch(Strict):
    name: str | None = Field(None, min_length=1, max_length=100)
    options: dict[str, Any] | None = None
    enabled: bool | None = None


class SnoozeBody(Strict):
    until: datetime | None = None
    until_business_hours: str | None = Field(None, description="calendar name")


class SilenceCreate(Strict):
    matchers: list[str] | dict[str, Any] | str
    starts_at: datetime | None = None
    ends_at: datetime
    comment: str = Field(min_length=1)
    kind: Literal["silence", "maintenance"] = "silence"


class RouteTest(Strict):
    labels: dict[str, str]
    service: str | None = None
    severity: str | None = None


@router.post("/integrations", status_code=201, response_model=svc.IntegrationView)
def create_integration(body: IntegrationCreate, request: Request,
                       actor: Actor = api("config:write")) -> svc.IntegrationView:
    c = container(request)
    return svc.create_integration(c.uow(), actor, body.name, body.type, body.service,
                                  body.options, c.settings.public_url)


@router.get("/integrations", response_model=Page)
def list_integrations(request: Request, _: Actor = api("config:write")) -> Page:
    c = container(request)
    items = svc.list_integrations(c.uow(read_only=True), c.settings.public_url)
    return Page(items=items, total=len(items))


@router.patch("/integrations/{integration_id}", response_model=svc.IntegrationView)
def update_integration(integration_id: Id, body: IntegrationPatch, request: Request,
                       actor: Actor = api("config:write")) -> svc.IntegrationView:
    c = container(request)
    return svc.update_integration(c.uow(), actor, integration_id, body.name, body.options,
                                  body.enabled, c.settings.public_url)


@router.get("/integration-notices")
def integration_notices(request: Request, _: Actor = api("config:write")) -> dict[str, Any]:
    items = svc.integration_notices(container(request).uow(read_only=True))
    return {"items": items, "total": len(items)}


@router.get("/integration-types")
def integration_types(_: Actor = api("read")) -> dict[str, str]:
    return intake.describe_types()


@router.get("/alerts", response_model=Page)
def list_alerts(request: Request, status: str | None = None, service: str | None = None,
                queue: str | None = None, suppressed: str | None = None,
                incident: int | None = Query(None, ge=1, le=MAX_ID),
                limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=1_000_000),
                _: Actor = api("read")) -> Page:
    items, total = svc.list_alerts(container(request).uow(read_only=True), AlertFilter(
        status=status, queue=queue, suppressed=suppressed, incident_id=incident, limit=limit,
        offset=offset), service)
    return Page(items=items, total=total)


@router.get("/alerts/{alert_id}", response_model=svc.AlertView)
def get_alert(alert_id: Id, request: Request, _: Actor = api("read")) -> svc.AlertView:
    return svc.get_alert(container(request).uow(read_only=True), alert_id)


@router.get("/intake-events/{event_id}")
def raw_event(event_id: Id, request: Request, _: Actor = api("read")) -> dict[str, Any]:
    """The request as received (raw body) and what was parsed and decided from it."""
    return svc.raw_event(container(request).uow(read_only=True), event_id)


@router.post("/alerts/{alert_id}/resolve", response_model=svc.AlertView)
def resolve_alert(alert_id: Id, request: Request,
                  actor: Actor = api("incidents:write")) -> svc.AlertView:
    return svc.resolve_alert(container(request).uow(), actor, alert_id)


@router.post("/alerts/{alert_id}/snooze", response_model=svc.AlertView)
def snooze_alert(alert_id: Id, body: SnoozeBody, request: Request,
                 actor: Actor = api("incidents:write")) -> svc.AlertView:
    return svc.snooze_alert(container(request).uow(), actor, alert_id, body.until,
                            body.until_business_hours)


@router.post("/incidents/{incident_id}/snooze", response_model=IncidentView)
def snooze_incident(incident_id: Id, body: SnoozeBody, request: Request,
                    actor: Actor = api("incidents:write")) -> IncidentView:
    c = container(request)
    svc.snooze_incident(c.uow(), actor, incident_id, body.until, body.until_business_hours)
    return inc_svc.get(c.uow(read_only=True), incident_id)


@router.get("/dead-letters", response_model=Page)
def dead_letters(request: Request, status: str | None = None,
                 limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=1_000_000),
                 _: Actor = api("read")) -> Page:
    items, total = intake.list_dead_letters(container(request).uow(read_only=True), status,
                                            limit, offset)
    return Page(items=items, total=total)


@router.get("/dead-letters/{dl_id}", response_model=intake.DeadLetterView)
def dead_letter(dl_id: Id, request: Request, _: Actor = api("read")) -> intake.DeadLetterView:
    return intake.get_dead_letter(container(request).uow(read_only=True), dl_id)


@router.post("/dead-letters/{dl_id}/replay")
def replay(dl_id: Id, request: Request, actor: Actor = api("incidents:write")) -> dict[str, Any]:
    result = intake.replay(container(request).uow(), actor, dl_id)
    request.app.state.kick()
    return result


@router.post("/silences", status_code=201, response_model=svc.SilenceView)
def create_silence(body: SilenceCreate, request: Request,
                   actor: Actor = api("incidents:write")) -> svc.SilenceView:
    return svc.create_silence(container(request).uow(), actor, body.matchers, body.starts_at,
                              body.ends_at, body.comment, body.kind)


@router.get("/silences", response_model=Page)
def list_silences(request: Request, expired: bool = False, _: Actor = api("read")) -> Page:
    items = svc.list_silences(container(request).uow(read_only=True), expired)
    return Page(items=items, total=len(items))


@router.delete("/silences/{silence_id}", response_model=svc.SilenceView)
def expire_silence(silence_id: Id, request: Request,
                   actor: Actor = api("incidents:write")) -> svc.SilenceView:
    return svc.expire_silence(container(request).uow(), actor, silence_id)


@router.post("/routes/test")
def test_route(body: RouteTest, request: Request, _: Actor = api("read")) -> dict[str, Any]:
    return svc.test_route(container(request).uow(read_only=True), body.labels, body.service,
                          body.severity)

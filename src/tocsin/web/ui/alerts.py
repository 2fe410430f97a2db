"""Alert pages: the stream, one alert's detail (raw payload, every decision), silences,
routes (with a tester), integrations and dead letters."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool as off_loop

from ...domain.auth import Actor
from ...domain.errors import FieldError, ValidationFailed
from ...integrations.inbound.generic import DEFAULT_OPTIONS_EXAMPLE, MAPPING_HELP
from ...services import alerting_config, catalog, config, intake
from ...services import alerts as svc
from ...store.alerting_repos import AlertFilter
from ..schemas import Id
from ..security import container, ui
from .common import render

router = APIRouter(include_in_schema=False)


@router.get("/alerts")
def stream(request: Request, status: str = "open", service: str = "", queue: str = "",
           suppressed: str = "", actor: Actor = ui("read")) -> Response:
    items, total = svc.list_alerts(container(request).uow(read_only=True), AlertFilter(
        status=status or None, queue=queue or None, suppressed=suppressed or None, limit=200),
        service or None)
    template = "alerts/_rows.html" if request.headers.get("HX-Request") else "alerts/list.html"
    return render(request, template, actor, items=items, total=total, status=status,
                  service=service, queue=queue, suppressed=suppressed,
                  services=catalog.list_services(container(request).uow(read_only=True)))


@router.get("/alerts/{alert_id}")
def detail(alert_id: Id, request: Request, actor: Actor = ui("read")) -> Response:
    c = container(request)
    alert = svc.get_alert(c.uow(read_only=True), alert_id)
    raw = svc.raw_event(c.uow(read_only=True), alert.last_event_id) if alert.last_event_id \
        else None
    calendars = list(alerting_config.load_names(c.uow(read_only=True)))
    return render(request, "alerts/detail.html", actor, alert=alert, raw=raw,
                  calendars=calendars)


@router.post("/alerts/{alert_id}/resolve")
def resolve(alert_id: Id, request: Request, actor: Actor = ui("incidents:write")) -> Response:
    svc.resolve_alert(container(request).uow(), actor, alert_id)
    return RedirectResponse(f"/alerts/{alert_id}", status_code=303)


async def _snooze_target(request: Request) -> tuple[datetime | None, str | None]:
    data = await request.form()
    calendar = str(data.get("calendar") or "") or None
    until_raw = str(data.get("until") or "")
    until = None
    if until_raw:
        try:
            until = datetime.fromisoformat(until_raw)
        except ValueError as exc:
            raise ValidationFailed([FieldError("until", "a date and time")]) from exc
        if until.tzinfo is None:  # the form's local time is in the viewer's zone
            from zoneinfo import ZoneInfo

            until = until.replace(tzinfo=ZoneInfo(request.state.actor.time_zone))
    return until, calendar


@router.post("/alerts/{alert_id}/snooze")
async def snooze(alert_id: Id, request: Request,
                 actor: Actor = ui("incidents:write")) -> Response:
    until, calendar = await _snooze_target(request)
    await off_loop(svc.snooze_alert, container(request).uow(), actor, alert_id, until, calendar)
    return RedirectResponse(f"/alerts/{alert_id}", status_code=303)


@router.post("/incidents/{incident_id}/snooze")
async def snooze_incident(incident_id: Id, request: Request,
                          actor: Actor = ui("incidents:write")) -> Response:
    until, calendar = await _snooze_target(request)
    await off_loop(svc.snooze_incident, container(request).uow(), actor, incident_id, until,
                   calendar)
    return RedirectResponse(f"/incidents/{incident_id}", status_code=303)


@router.get("/silences")
def silences(request: Request, expired: bool = False, actor: Actor = ui("read")) -> Response:
    items = svc.list_silences(container(request).uow(read_only=True), expired)
    return render(request, "alerts/silences.html", actor, items=items, expired=expired)


@router.post("/silences")
async def create_silence(request: Request, actor: Actor = ui("incidents:write")) -> Response:
    data = await request.form()
    matchers = [m.strip() for m in str(data.get("matchers") or "").splitlines() if m.strip()]
    hours = str(data.get("hours") or "")
    try:
        duration = float(hours)
    except ValueError as exc:
        raise ValidationFailed([FieldError("hours", "a number of hours")]) from exc
    if not 0 < duration <= 24 * 90:
        raise ValidationFailed([FieldError("hours", "between 0 and 2160 (90 days)")])
    c = container(request)
    from datetime import timedelta

    ends = c.clock.now() + timedelta(hours=duration)
    kind = "maintenance" if data.get("kind") == "maintenance" else "silence"
    await off_loop(svc.create_silence, c.uow(), actor, matchers, None, ends,
                   str(data.get("comment") or ""), kind)
    request.session["flash"] = {"kind": "ok", "message": "Silence created."}
    return RedirectResponse("/silences", status_code=303)


@router.post("/silences/{silence_id}/expire")
def expire(silence_id: Id, request: Request, actor: Actor = ui("incidents:write")) -> Response:
    svc.expire_silence(container(request).uow(), actor, silence_id)
    return RedirectResponse("/silences", status_code=303)


@router.get("/routes")
def routes(request: Request, actor: Actor = ui("read")) -> Response:
    c = container(request)
    data = config.export_data(c.uow(read_only=True))
    return render(request, "alerts/routes.html", actor, data=data, result=None, labels="",
                  services=catalog.list_services(c.uow(read_only=True)), service="")


@router.post("/routes/test")
async def route_test(request: Request, actor: Actor = ui("read")) -> Response:
    form = await request.form()
    text = str(form.get("labels") or "")
    labels = {}
    for part in text.replace(",", "\n").splitlines():
        key, sep, value = part.strip().partition("=")
        if part.strip() and not sep:
            raise ValidationFailed([FieldError("labels", f"{part.strip()!r} is not key=value")])
        if sep:
            labels[key.strip()] = value.strip().strip('"')
    c = container(request)
    service = str(form.get("service") or "") or None
    result = await off_loop(svc.test_route, c.uow(read_only=True), labels, service)
    data = await off_loop(config.export_data, c.uow(read_only=True))
    return render(request, "alerts/routes.html", actor, data=data, result=result, labels=text,
                  services=await off_loop(catalog.list_services, c.uow(read_only=True)),
                  service=service or "")


@router.get("/integrations")
def integrations(request: Request, actor: Actor = ui("config:write")) -> Response:
    c = container(request)
    return render(request, "alerts/integrations.html", actor,
                  items=svc.list_integrations(c.uow(read_only=True), c.settings.public_url),
                  types=intake.describe_types(), mapping_help=MAPPING_HELP,
                  mapping_example=DEFAULT_OPTIONS_EXAMPLE,
                  notices=svc.integration_notices(c.uow(read_only=True)),
                  services=catalog.list_services(c.uow(read_only=True)))


@router.post("/integrations")
async def create_integration(request: Request, actor: Actor = ui("config:write")) -> Response:
    data = await request.form()
    options = _options(data)
    c = container(request)
    view = await off_loop(svc.create_integration, c.uow(), actor, str(data.get("name") or ""),
                          str(data.get("type") or ""), str(data.get("service") or ""),
                          options, c.settings.public_url)
    request.session["flash"] = {"kind": "ok", "message": f"Integration {view.name} created: "
                                                         f"send alerts to {view.url}"}
    return RedirectResponse("/integrations", status_code=303)


@router.post("/integrations/{integration_id}")
async def update_integration(integration_id: Id, request: Request,
                             actor: Actor = ui("config:write")) -> Response:
    data = await request.form()
    options = _options(data)
    c = container(request)
    await off_loop(svc.update_integration, c.uow(), actor, integration_id, None, options,
                   data.get("enabled") == "true", c.settings.public_url)
    request.session["flash"] = {"kind": "ok", "message": "Integration saved."}
    return RedirectResponse("/integrations", status_code=303)


def _options(data: Any) -> dict[str, Any]:
    """An integration's options as typed in the form: a JSON object (empty means none)."""
    raw = str(data.get("options") or "").strip()
    try:
        options = orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError as exc:
        raise ValidationFailed([FieldError("options", f"not valid JSON: {exc}")]) from exc
    if not isinstance(options, dict):
        raise ValidationFailed([FieldError("options", "a JSON object")])
    return options


@router.get("/dead-letters")
def dead_letters(request: Request, actor: Actor = ui("read")) -> Response:
    items, total = intake.list_dead_letters(container(request).uow(read_only=True), None, 100)
    return render(request, "alerts/dead_letters.html", actor, items=items, total=total)


@router.post("/dead-letters/{dl_id}/replay")
def replay(dl_id: Id, request: Request, actor: Actor = ui("incidents:write")) -> Response:
    result = intake.replay(container(request).uow(), actor, dl_id)
    request.app.state.kick()
    request.session["flash"] = {"kind": "ok", "message": f"Replayed: {result['alerts']} "
                                                         f"alert(s) accepted."}
    return RedirectResponse("/dead-letters", status_code=303)

"""Integrations, alerts, silences and dead letters: the use cases people call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from ..domain import silence as sildom
from ..domain.auth import Actor
from ..domain.conditions import ConditionError
from ..domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from ..domain.matchers import parse_matchers
from ..domain.routing import evaluate, routing_labels
from ..integrations.inbound import OPTION_VALIDATORS, PARSERS
from ..integrations.inbound.common import SEVERITY_WORDS
from ..store.alerting_repos import AlertFilter
from ..store.models import Alert, Integration, SilenceRow
from ..store.uow import UnitOfWork
from . import alert_actions, alerting_config, intake
from .common import actor_label, need_service


@dataclass(frozen=True)
class IntegrationView:
    id: int
    name: str
    type: str
    service: str
    key: str
    url: str
    options: dict[str, Any]
    enabled: bool
    created_at: datetime


def _integration_view(uow: UnitOfWork, row: Integration, base_url: str) -> IntegrationView:
    svc = uow.services.get(row.service_id)
    path = "/v2/enqueue" if row.type == "pagerduty" else f"/intake/{row.key}"
    return IntegrationView(row.id, row.name, row.type, svc.name, row.key,
                           base_url.rstrip("/") + path, dict(row.options), row.enabled,
                           row.created_at)


def create_integration(uow: UnitOfWork, actor: Actor, name: str, type_: str, service: str | int,
                       options: dict[str, Any] | None, base_url: str) -> IntegrationView:
    actor.require("config:write")
    errors = []
    if not 1 <= len(name.strip()) <= 100:
        errors.append(FieldError("name", "1 to 100 characters"))
    if type_ not in PARSERS:
        errors.append(FieldError("type", f"must be one of {', '.join(sorted(PARSERS))}"))
    elif type_ in OPTION_VALIDATORS:
        errors += [FieldError(f"options.{p}" if p else "options", r)
                   for p, r in OPTION_VALIDATORS[type_](options or {})]
    if errors:
        raise ValidationFailed(errors, "invalid integration")
    with uow:
        svc = need_service(uow, service)
        row = uow.integrations.add(Integration(
            name=name.strip(), type=type_, service_id=svc.id, key=intake.new_key(),
            options=options or {}, enabled=True, created_at=uow.clock.now()))
        uow.record(actor_label(actor), "integration.create", f"integration:{row.id}",
                   {"name": row.name, "type": type_, "service": svc.name})
        view = _integration_view(uow, row, base_url)
        uow.commit()
        return view


def integration_notices(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Recent requests that were not alerts, e.g. SNS subscriptions waiting for a person to
    confirm them (Tocsin does not fetch URLs a payload names)."""
    with uow:
        out = []
        for n in uow.integrations.notices():
            integ = uow.integrations.get(n.integration_id)
            out.append({"id": n.id, "integration": integ.name if integ else None,
                        "received_at": n.received_at, "kind": n.kind, "message": n.message,
                        "data": dict(n.data)})
        return out


def list_integrations(uow: UnitOfWork, base_url: str) -> list[IntegrationView]:
    with uow:
        return [_integration_view(uow, r, base_url) for r in uow.integrations.list()]


@dataclass(frozen=True)
class AlertView:
    id: int
    service: str
    source: str
    dedup_key: str
    status: str
    severity: str | None
    source_severity: str | None
    summary: str
    description: str
    labels: dict[str, Any]
    annotations: dict[str, Any]
    links: dict[str, Any]
    first_seen: datetime
    last_seen: datetime
    resolved_at: datetime | None
    count: int
    incident_id: int | None
    route: str | None
    queue: str | None
    suppressed: str | None
    snoozed_until: datetime | None
    decisions: list[dict[str, Any]]
    last_event_id: int | None


def _alert_view(uow: UnitOfWork, a: Alert) -> AlertView:
    svc = uow.services.get(a.service_id)
    return AlertView(a.id, svc.name, a.source, a.dedup_key, a.status, a.severity,
                     a.source_severity, a.summary, a.description, dict(a.labels or {}),
                     dict(a.annotations or {}), dict(a.links or {}), a.first_seen, a.last_seen,
                     a.resolved_at, a.count, a.incident_id, a.route, a.queue, a.suppressed,
                     a.snoozed_until, list(a.decisions or []), a.last_event_id)


def list_alerts(uow: UnitOfWork, f: AlertFilter, service: str | None = None
                ) -> tuple[list[AlertView], int]:
    with uow:
        if service:
            f = AlertFilter(**{**f.__dict__, "service_id": need_service(uow, service).id})
        rows, total = uow.alerts.list(f)
        return [_alert_view(uow, a) for a in rows], total


def get_alert(uow: UnitOfWork, alert_id: int) -> AlertView:
    with uow:
        return _alert_view(uow, _need_alert(uow, alert_id))


def _need_alert(uow: UnitOfWork, alert_id: int) -> Alert:
    a = uow.alerts.get(alert_id)
    if a is None:
        raise NotFound(f"no alert {alert_id}")
    return a


def raw_event(uow: UnitOfWork, event_id: int) -> dict[str, Any]:
    with uow:
        ev = uow.intake.get(event_id)
        if ev is None:
            raise NotFound(f"no intake event {event_id}")
        body = ev.body.decode("utf-8", "replace")
        try:  # shown indented; the stored bytes stay exactly as received
            pretty = orjson.dumps(orjson.loads(ev.body), option=orjson.OPT_INDENT_2).decode()
        except orjson.JSONDecodeError:
            pretty = body
        return {"id": ev.id, "received_at": ev.received_at, "content_type": ev.content_type,
                "body": body, "pretty": pretty, "alerts": ev.alerts,
                "processed_at": ev.processed_at, "result": ev.result}


def resolve_alert(uow: UnitOfWork, actor: Actor, alert_id: int) -> AlertView:
    actor.require("incidents:write")
    with uow:
        a = _need_alert(uow, alert_id)
        if a.status == "resolved":
            raise Conflict(f"alert {alert_id} is resolved already")
        alert_actions.resolve_alert(uow, uow.clock.now(), a, None, f"resolved by {actor.name}")
        uow.record(actor_label(actor), "alert.resolve", f"alert:{a.id}", {})
        view = _alert_view(uow, a)
        uow.commit()
        return view


def snooze_alert(uow: UnitOfWork, actor: Actor, alert_id: int, until: datetime | None,
                 calendar: str | None) -> AlertView:
    """Snooze until a time, or until the named calendar's business hours begin."""
    actor.require("incidents:write")
    with uow:
        a = _need_alert(uow, alert_id)
        if a.status == "resolved":
            raise Conflict(f"alert {alert_id} is resolved; nothing to snooze")
        now = uow.clock.now()
        target = snooze_target(uow, now, until, calendar)
        a.snoozed_until = target
        a.suppressed = a.suppressed or "snoozed"  # an unrouted or silenced alert stays so
        alert_actions.decide(a, now, "snoozed", f"snoozed by {actor.name} until "
                             f"{target.isoformat()}" + (f" ({calendar} opens)" if calendar else ""))
        uow.record(actor_label(actor), "alert.snooze", f"alert:{a.id}",
                   {"until": target.isoformat()})
        view = _alert_view(uow, a)
        uow.commit()
        return view


def snooze_target(uow: UnitOfWork, now: datetime, until: datetime | None,
                  calendar: str | None) -> datetime:
    if (until is None) == (calendar is None):
        raise ValidationFailed([FieldError("until", "give either until or "
                                           "until_business_hours")], "invalid snooze")
    if calendar is not None:
        cfg = alerting_config.load(uow)
        if calendar not in cfg.calendars:
            raise ValidationFailed([FieldError("until_business_hours",
                                               f"no calendar {calendar!r}")], "invalid snooze")
        from ..domain.business_hours import next_open

        target = next_open(cfg.calendars[calendar], now)
        if target <= now:
            raise Conflict(f"{calendar} is open now: nothing to snooze until")
        return target
    if until.tzinfo is None:
        raise ValidationFailed([FieldError("until", "needs a time zone offset")])
    if until <= now:
        raise ValidationFailed([FieldError("until", "must be in the future")])
    return until


# ---- silences ----

@dataclass(frozen=True)
class SilenceView:
    id: int
    kind: str
    matchers: list[str]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str
    state: str


def _silence_view(r: SilenceRow, now: datetime) -> SilenceView:
    sil = sildom.Silence(r.id, (), r.starts_at, r.ends_at, r.created_by, r.comment, r.kind)
    return SilenceView(r.id, r.kind, list(r.matchers), r.starts_at, r.ends_at, r.created_by,
                       r.comment, sil.state(now))


def create_silence(uow: UnitOfWork, actor: Actor, matchers: Any, starts_at: datetime | None,
                   ends_at: datetime, comment: str, kind: str = "silence") -> SilenceView:
    actor.require("incidents:write")
    try:
        parsed = parse_matchers(matchers, "matchers")
    except ConditionError as exc:
        raise ValidationFailed([FieldError(exc.path, exc.message)], "invalid silence") from exc
    if kind not in ("silence", "maintenance"):
        raise ValidationFailed([FieldError("kind", "silence or maintenance")])
    with uow:
        now = uow.clock.now()
        start = starts_at or now
        errors = sildom.validate(parsed, start, ends_at, comment)
        if errors:
            raise ValidationFailed(errors, "invalid silence")
        row = uow.silences.add(SilenceRow(
            kind=kind, matchers=[str(m) for m in parsed], starts_at=start, ends_at=ends_at,
            created_by=actor.name, comment=comment.strip(), created_at=now))
        uow.record(actor_label(actor), "silence.create", f"silence:{row.id}",
                   {"matchers": row.matchers, "ends_at": ends_at.isoformat()})
        view = _silence_view(row, now)
        uow.commit()
        return view


def list_silences(uow: UnitOfWork, include_expired: bool = False) -> list[SilenceView]:
    with uow:
        now = uow.clock.now()
        return [_silence_view(r, now) for r in uow.silences.list(include_expired, now)]


def expire_silence(uow: UnitOfWork, actor: Actor, silence_id: int) -> SilenceView:
    actor.require("incidents:write")
    with uow:
        row = uow.silences.get(silence_id)
        if row is None:
            raise NotFound(f"no silence {silence_id}")
        now = uow.clock.now()
        if row.ends_at <= now:
            raise Conflict(f"silence {silence_id} has expired already")
        row.ends_at = max(now, row.starts_at)
        uow.record(actor_label(actor), "silence.expire", f"silence:{row.id}", {})
        view = _silence_view(row, now)
        uow.commit()
        return view


# ---- routes ----

def test_route(uow: UnitOfWork, labels: dict[str, str], service: str | None = None,
               severity: str | None = None) -> dict[str, Any]:
    """Which route would take an alert with these labels, and why (like `amtool`)."""
    with uow:
        cfg = alerting_config.load(uow)
        from ..domain.business_hours import is_open

        now = uow.clock.now()
        svc = need_service(uow, service) if service else None
        word = severity or labels.get("severity")
        normalized = SEVERITY_WORDS.get(str(word).lower()) if word else None
        full = routing_labels(labels, svc.name if svc else labels.get("service", ""),
                              svc.tier if svc else 0, normalized or word, "test", "route-test")
        open_cal = {n: is_open(c, now) for n, c in cfg.calendars.items()}
        decision = evaluate(cfg.routes, full, open_cal)
        return {"matched": [" > ".join(m.path) for m in decision.matches],
                "actions": [m.route.actions.describe() for m in decision.matches],
                "reason": decision.reason, "trace": list(decision.trace), "labels": full,
                "calendars": open_cal}


def snooze_incident(uow: UnitOfWork, actor: Actor, incident_id: int, until: datetime | None,
                    calendar: str | None) -> None:
    """Snooze an incident until a time or business hours; it returns by itself then."""
    from . import incidents as inc_svc

    actor.require("incidents:write")
    with uow:
        inc = uow.incidents.get(incident_id)
        if inc is None:
            raise NotFound(f"no incident {incident_id}")
        if inc.status in ("resolved", "closed"):
            raise Conflict(f"incident {inc.number} is {inc.status}; nothing to snooze")
        target = snooze_target(uow, uow.clock.now(), until, calendar)
        inc.snoozed_until = target
        inc_svc.append_in(uow, actor, inc, "snoozed", {
            "text": f"Snoozed until {target.isoformat()}"
                    + (f" (when {calendar} opens)" if calendar else ""),
            "until": target.isoformat()})
        uow.commit()


def update_integration(uow: UnitOfWork, actor: Actor, integration_id: int,
                       name: str | None, options: dict[str, Any] | None, enabled: bool | None,
                       base_url: str) -> IntegrationView:
    """Rename, change the parser options (e.g. fix a generic mapping, then replay its dead
    letters) or disable an integration (its senders then get 403, payloads kept)."""
    actor.require("config:write")
    with uow:
        row = uow.integrations.get(integration_id)
        if row is None:
            raise NotFound(f"no integration {integration_id}")
        errors = []
        if name is not None and not 1 <= len(name.strip()) <= 100:
            errors.append(FieldError("name", "1 to 100 characters"))
        if options is not None and row.type in OPTION_VALIDATORS:
            errors += [FieldError(f"options.{p}" if p else "options", r)
                       for p, r in OPTION_VALIDATORS[row.type](options)]
        if errors:
            raise ValidationFailed(errors, "invalid integration")
        if name is not None:
            row.name = name.strip()
        if options is not None:
            row.options = options
        if enabled is not None:
            row.enabled = enabled
        uow.record(actor_label(actor), "integration.update", f"integration:{row.id}",
                   {"name": row.name, "enabled": row.enabled, "options": options is not None})
        view = _integration_view(uow, row, base_url)
        uow.commit()
        return view

"""Turn incident rows into view models (inside the transaction, so nothing loads lazily)."""

from __future__ import annotations

from ..domain import incident as lifecycle
from ..store.models import Incident, TimelineEntry
from ..store.uow import UnitOfWork
from .common import level_of, person_ref
from .views import EntryView, IncidentSummary, IncidentView, Targets


def summary_view(uow: UnitOfWork, inc: Incident) -> IncidentSummary:
    svc = uow.services.get(inc.service_id)
    owner = uow.users.get(inc.owner_id) if inc.owner_id else None
    return IncidentSummary(inc.id, inc.number, inc.title, inc.kind, inc.severity, inc.status,
                           svc.name, person_ref(owner), inc.created_at)


def incident_view(uow: UnitOfWork, inc: Incident) -> IncidentView:
    uow.session.flush()  # so the version counter and new rows are current
    svc = uow.services.get(inc.service_id)
    owner = uow.users.get(inc.owner_id) if inc.owner_id else None
    creator = uow.users.get(inc.created_by_id) if inc.created_by_id else None
    affected = sorted(uow.services.get(i).name for i in uow.incidents.affected_service_ids(inc.id))
    return IncidentView(
        id=inc.id, number=inc.number, title=inc.title, description=inc.description,
        kind=inc.kind, severity=inc.severity, severity_reason=inc.severity_reason,
        severity_rule=inc.severity_rule, status=inc.status, service=svc.name,
        services=affected or [svc.name], owner=person_ref(owner), form=inc.form_name,
        attributes=dict(inc.attributes or {}), created_by=creator.name if creator else None,
        created_at=inc.created_at, updated_at=inc.updated_at,
        acknowledged_at=inc.acknowledged_at, mitigated_at=inc.mitigated_at,
        resolved_at=inc.resolved_at, closed_at=inc.closed_at,
        allowed_actions=lifecycle.allowed_actions(inc.status),
        targets=_targets(uow, inc), version=inc.version, snoozed_until=inc.snoozed_until)


def _targets(uow: UnitOfWork, inc: Incident) -> Targets | None:
    row = uow.severity.level(inc.severity)
    if row is None:
        return None
    level = level_of(row)
    st = lifecycle.target_state(level, inc.created_at, inc.acknowledged_at, inc.last_update_at,
                                inc.status, uow.clock.now())
    return Targets(level.code, level.name, level.ack_within_minutes, level.update_every_minutes,
                   level.coverage, st.ack_due_at, st.ack_overdue, st.next_update_due_at,
                   st.update_overdue)


def entry_text(kind: str, body: dict) -> str:
    """One sentence a person can read in the timeline."""
    match kind:
        case "declared":
            return (f"Declared {body.get('severity')} {body.get('kind')} on "
                    f"{body.get('service')}: {body.get('title')}")
        case "status_changed":
            note = f" — {body['note']}" if body.get("note") else ""
            return f"Status {body.get('from')} → {body.get('to')}{note}"
        case "severity_changed":
            return f"Severity {body.get('from')} → {body.get('to')}: {body.get('reason')}"
        case "field_changed":
            before, after = _show(body.get("from")), _show(body.get("to"))
            return f"{str(body.get('field')).capitalize()}: {before} → {after}"
        case "alert_attached":
            return (f"Alert attached ({body.get('source')}, {body.get('severity') or 'no severity'}"
                    f", route {body.get('route')}): {body.get('summary')}")
        case "alerts_attached":
            listed = body.get("alerts") or []
            shown = "; ".join(str(a.get("summary")) for a in listed[:5])
            more = int(body.get("count", len(listed))) - min(len(listed), 5)
            return (f"{body.get('count')} alerts attached (route "
                    f"{', '.join(body.get('routes') or [])}): {shown}"
                    + (f" and {more} more" if more > 0 else ""))
        case "unsnoozed" | "snoozed":
            return str(body.get("text", ""))
        case "update":
            parts = [f"{label}: {body[k]}" for k, label in
                     (("impact", "Impact"), ("action", "Action"), ("next_step", "Next step"))
                     if body.get(k)]
            return " · ".join(parts + ([body["text"]] if body.get("text") else []))
    return str(body.get("text", ""))


def _show(value: object) -> str:
    if value is None or value == "" or value == []:
        return "nobody" if value is None else "(empty)"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    text = str(value)
    return f"“{text[:200]}…”" if len(text) > 200 else f"“{text}”"


def entry_view(e: TimelineEntry) -> EntryView:
    """Notes show their author; a later version also says who edited it."""
    author = e.body.get("author", e.actor_name) if e.version > 1 else e.actor_name
    author_id = e.body.get("author_id", e.actor_id) if e.version > 1 else e.actor_id
    return EntryView(e.id, e.at, author, author_id, e.kind, dict(e.body), e.version,
                     e.supersedes_id, entry_text(e.kind, e.body),
                     e.actor_name if e.version > 1 else None)

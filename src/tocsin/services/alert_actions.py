"""What triage does to alerts and incidents: create, bump, reopen, resolve, and carry out
a route's actions (open or attach to an incident, queue, owner, snooze, log and close)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..domain import business_hours
from ..domain.auth import Actor
from ..domain.incident import OPEN_STATUSES
from ..domain.routing import RouteMatch
from ..store.models import Alert, AlertGroup, Incident, Service
from ..store.uow import UnitOfWork
from . import incidents as inc_svc

TRIAGE = Actor(None, "alert triage", "admin")
MAX_DECISIONS = 50  # a flapping alert keeps its latest decisions, not an unbounded list


def decide(alert: Alert, now: datetime, kind: str, reason: str, **data: Any) -> None:
    entry = {"at": now.isoformat(), "kind": kind, "reason": reason, **data}
    alert.decisions = (list(alert.decisions or []) + [entry])[-MAX_DECISIONS:]


def new_alert(now: datetime, service_id: int, integ: Any, d: dict[str, Any],
              event_id: int) -> Alert:
    alert = Alert(
        service_id=service_id, integration_id=integ.id if integ else None, source=d["source"],
        dedup_key=d["dedup_key"], status="open", severity=d.get("severity"),
        source_severity=d.get("source_severity"), summary=d["summary"],
        description=d.get("description", ""), labels=d.get("labels", {}),
        annotations=d.get("annotations", {}), links=d.get("links", {}), first_seen=now,
        last_seen=now, starts_at=_time(d.get("starts_at")), count=1, last_event_id=event_id,
        decisions=[])
    decide(alert, now, "created", f"new alert from {d['source']}", event_id=event_id)
    return alert


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _refresh(alert: Alert, d: dict[str, Any], now: datetime, event_id: int) -> None:
    alert.count += 1
    alert.last_seen, alert.last_event_id = now, event_id
    alert.summary, alert.description = d["summary"], d.get("description", alert.description)
    alert.severity = d.get("severity") or alert.severity
    alert.labels = d.get("labels") or alert.labels
    alert.annotations = d.get("annotations") or alert.annotations
    alert.links = d.get("links") or alert.links


def repeat(now: datetime, alert: Alert, d: dict[str, Any], event_id: int) -> None:
    _refresh(alert, d, now, event_id)
    # A repeat is counted, not logged: a noisy source would bury the real decisions.


def reopen(uow: UnitOfWork, now: datetime, alert: Alert, d: dict[str, Any], event_id: int,
           cooldown: int) -> None:
    ago = int((now - alert.resolved_at).total_seconds() // 60) if alert.resolved_at else 0
    _refresh(alert, d, now, event_id)
    alert.status, alert.resolved_at = "open", None
    decide(alert, now, "reopened", f"fired again {ago} min after it resolved, within the "
           f"{cooldown} min cooldown: the same alert re-opens instead of a new one")
    if alert.incident_id:
        inc = uow.incidents.get(alert.incident_id)
        if inc and inc.status not in OPEN_STATUSES:
            write_attachments(uow, inc.id)
            inc_svc.transition_in(uow, TRIAGE, inc, "reopen",
                                  f"alert re-fired within the cooldown: {alert.summary}")


def resolve_alert(uow: UnitOfWork, now: datetime, alert: Alert, event_id: int | None,
                  why: str) -> None:
    alert.status, alert.resolved_at, alert.snoozed_until = "resolved", now, None
    if event_id:
        alert.last_event_id = event_id
    decide(alert, now, "resolved", why)
    if alert.incident_id:
        _maybe_auto_resolve(uow, alert)


def _maybe_auto_resolve(uow: UnitOfWork, alert: Alert) -> None:
    inc = uow.incidents.get(alert.incident_id)
    if inc is None or not inc.auto_resolve or inc.status not in OPEN_STATUSES:
        return
    uow.session.flush()
    if uow.alerts.open_count_for_incident(inc.id) == 0:
        write_attachments(uow, inc.id)
        total = len(uow.alerts.for_incident(inc.id))
        inc_svc.transition_in(uow, TRIAGE, inc, "resolve",
                              f"resolved automatically: all {total} alert(s) resolved")


def acknowledge_alert(uow: UnitOfWork, now: datetime, alert: Alert, event_id: int) -> None:
    alert.status, alert.last_event_id = "acknowledged", event_id
    decide(alert, now, "acknowledged", "acknowledged by the source")
    inc = uow.incidents.get(alert.incident_id) if alert.incident_id else None
    if inc is not None:
        write_attachments(uow, inc.id)
        inc_svc.transition_in(uow, TRIAGE, inc, "acknowledge",
                              f"alert acknowledged at the source: {alert.summary}")


def apply_route(uow: UnitOfWork, ctx: Any, service: Service, alert: Alert, match: RouteMatch,
                labels: dict[str, str]) -> None:
    route, acts, now = match.route, match.route.actions, ctx.now
    alert.route = route.name
    if acts.log_and_close:
        resolve_alert(uow, now, alert, None, f"logged and closed by route {route.name}")
        return
    if acts.queue:
        alert.queue = acts.queue
    if acts.tag_owner and service.owner_id:
        alert.owner_id = service.owner_id
    snooze_until = None
    if acts.snooze_after_hours and not ctx.open_calendars.get(route.calendar, False):
        snooze_until = business_hours.next_open(ctx.cfg.calendars[route.calendar], now)
        alert.snoozed_until, alert.suppressed = snooze_until, "snoozed"
        decide(alert, now, "snoozed", f"after hours in {route.calendar}: snoozed until "
               f"{snooze_until.isoformat()} by route {route.name}")
    if acts.open_incident:
        _group(uow, ctx, service, alert, match, labels, snooze_until)
    hooks = [h for h in (f"page {acts.page}" if acts.page else "",
                         f"post to channel {acts.channel}" if acts.channel else "",
                         f"escalate to {acts.escalate_to}" if acts.escalate_to else "") if h]
    if hooks:
        decide(alert, now, "requested", f"route {route.name} asks to {', '.join(hooks)}",
               page=acts.page, channel=acts.channel, escalate_to=acts.escalate_to)


def _group(uow: UnitOfWork, ctx: Any, service: Service, alert: Alert, match: RouteMatch,
           labels: dict[str, str], snooze_until: datetime | None) -> None:
    route, now = match.route, ctx.now
    key = match.group_key(labels)
    slot = (service.id, route.name, key)
    group = ctx.groups.get(slot)
    if group is None or group.status == "closed":
        group = ctx.groups[slot] = uow.groups.live(service.id, route.name, key)
    if group is not None and group.incident_id:
        inc = ctx.incident(uow, group.incident_id)
        if inc is None or inc.status not in OPEN_STATUSES:
            group.status, group = "closed", None
    if group is None:
        group = uow.groups.add(AlertGroup(
            service_id=service.id, route=route.name, group_key=key,
            labels={k: labels.get(k, "") for k in route.group_by}, status="waiting",
            severity=route.actions.open_incident, created_at=now,
            flush_at=None, actions={"why": list(match.why), "auto_resolve": route.auto_resolve,
                                    "title": route.actions.title, "tag_owner":
                                    route.actions.tag_owner, "page": route.actions.page,
                                    "escalate_to": route.actions.escalate_to,
                                    "snooze_until":
                                    snooze_until.isoformat() if snooze_until else None}))
        ctx.groups[slot] = group
        if route.group_wait_seconds:
            from datetime import timedelta

            group.flush_at = now + timedelta(seconds=route.group_wait_seconds)
            alert.group_id = group.id
            decide(alert, now, "grouped", f"group {key} of route {route.name} waits "
                   f"{route.group_wait_seconds}s for more alerts before opening an incident")
            return
        alert.group_id = group.id
        _open_group_incident(uow, now, service, group, [alert])
        return
    alert.group_id = group.id
    if group.incident_id:
        _attach(uow, now, ctx.incident(uow, group.incident_id), alert, route.name)
    else:
        decide(alert, now, "grouped", f"joined group {key} of route {route.name} (waiting)")


def _open_group_incident(uow: UnitOfWork, now: datetime, service: Service, group: AlertGroup,
                         alerts: list[Alert]) -> Incident:
    first = alerts[0]
    acts = group.actions
    title = _title(acts.get("title"), first)
    reason = (f"Opened by alert route '{group.route}' ({'; '.join(acts.get('why', []))}) "
              f"for {len(alerts)} alert(s) grouped by {group.group_key}.")
    owner = service.owner_id if acts.get("tag_owner") else None
    snooze = datetime.fromisoformat(acts["snooze_until"]) if acts.get("snooze_until") else None
    inc = inc_svc.open_in(uow, TRIAGE, service.id, title, group.severity, reason,
                          f"route:{group.route}", {"alert_group": group.group_key,
                                                   "route": group.route},
                          owner_id=owner, auto_resolve=bool(acts.get("auto_resolve", True)),
                          snoozed_until=snooze, page=acts.get("page"),
                          escalate_to=acts.get("escalate_to"))
    group.status, group.incident_id, group.flush_at = "open", inc.id, None
    for alert in alerts:
        _attach(uow, now, inc, alert, group.route)
    return inc


def _title(template: str | None, alert: Alert) -> str:
    if not template:
        return alert.summary
    try:
        return template.format_map({**alert.labels, "summary": alert.summary})
    except (KeyError, ValueError, IndexError):
        return alert.summary  # a template naming a missing label falls back, never fails


def _attach(uow: UnitOfWork, now: datetime, inc: Incident, alert: Alert, route: str) -> None:
    alert.incident_id = inc.id
    decide(alert, now, "incident", f"attached to INC-{inc.number} by route {route}",
           incident_id=inc.id)
    attachments(uow).add(inc, alert, route)


MAX_LISTED = 100  # an entry lists this many of the alerts it attaches, and counts them all


class Attachments:
    """Alerts attached to incidents in one transaction, written as one timeline entry per
    incident when the transaction is about to end (or before that incident's next entry,
    so the timeline keeps its order): a storm of 5,000 alerts is one entry, not 5,000."""

    def __init__(self) -> None:
        self.by_incident: dict[int, tuple[Incident, list[tuple[Alert, str]]]] = {}

    def add(self, inc: Incident, alert: Alert, route: str) -> None:
        self.by_incident.setdefault(inc.id, (inc, []))[1].append((alert, route))

    def write(self, uow: UnitOfWork, incident_id: int | None = None) -> None:
        ids = [incident_id] if incident_id is not None else list(self.by_incident)
        ids = [i for i in ids if i in self.by_incident]
        if not ids:
            return
        if any(a.id is None for i in ids for a, _ in self.by_incident[i][1]):
            uow.session.flush()  # new alerts get their ids
        for i in ids:
            inc, items = self.by_incident.pop(i)
            listed = [{"alert_id": a.id, "summary": a.summary, "severity": a.severity,
                       "source": a.source, "route": r} for a, r in items[:MAX_LISTED]]
            if len(items) == 1:
                inc_svc.append_in(uow, TRIAGE, inc, "alert_attached", listed[0])
            else:
                routes = sorted({r for _, r in items})
                inc_svc.append_in(uow, TRIAGE, inc, "alerts_attached", {
                    "count": len(items), "routes": routes, "alerts": listed})


def attachments(uow: UnitOfWork) -> Attachments:
    """The transaction's pending attachments (kept on its session)."""
    found = uow.session.info.get("tocsin.attachments")
    if found is None:
        found = uow.session.info["tocsin.attachments"] = Attachments()
        uow.before_commit(lambda: found.write(uow))
    return found


def write_attachments(uow: UnitOfWork, incident_id: int) -> None:
    """Before another entry on this incident: its pending attachments first, in order."""
    found = uow.session.info.get("tocsin.attachments")
    if found is not None:
        found.write(uow, incident_id)


def flush_group(uow: UnitOfWork, now: datetime, group: AlertGroup) -> None:
    alerts = [a for a in uow.alerts.for_group(group.id) if a.status != "resolved"]
    if not alerts:
        group.status, group.flush_at = "closed", None  # resolved during group_wait: no incident
        return
    service = uow.services.get(group.service_id)
    _open_group_incident(uow, now, service, group, alerts)


def unsnooze_alert(alert: Alert, now: datetime, why: str) -> None:
    alert.snoozed_until = None
    if alert.suppressed == "snoozed":
        alert.suppressed = None
    decide(alert, now, "unsnoozed", why)


def unsnooze_incident(uow: UnitOfWork, inc: Incident, why: str) -> None:
    inc.snoozed_until = None
    write_attachments(uow, inc.id)
    inc_svc.append_in(uow, TRIAGE, inc, "unsnoozed", {"text": why})

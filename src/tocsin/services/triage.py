"""Alert triage: turn accepted intake events into alerts — deduplicate, silence, inhibit,
route — and carry out the routes' actions. Runs in the engine, in batches."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson

from ..domain import business_hours, inhibition, routing, silence
from ..domain.auth import Actor
from ..domain.matchers import matches_all, parse_matchers
from ..store.alerting_repos import try_processor_lock
from ..store.models import Alert, IntakeEvent, IntegrationNotice, Service
from ..store.uow import UnitOfWork
from . import alert_actions as act
from . import alerting_config

TRIAGE_LOCK = 7_201_001
# Alerts per triage transaction on SQLite: about 0.2 s of holding the write lock.
SQLITE_BATCH_ALERTS = 200
TRIAGE = Actor(None, "alert triage", "admin")


class Firing:
    """The firing alerts that can inhibit others, read from the database only when some
    alert of the batch matches a rule's target (a storm of critical alerts never needs
    them), plus the sources that arrive in the batch."""

    def __init__(self, load: Callable[[], list[tuple[str, dict[str, Any]]]]) -> None:
        self._load, self._stored = load, None
        self.added: list[tuple[str, dict[str, Any]]] = []

    def append(self, item: tuple[str, dict[str, Any]]) -> None:
        self.added.append(item)

    def __iter__(self) -> Iterator[tuple[str, dict[str, Any]]]:
        if self._stored is None:
            self._stored = self._load()
        yield from self._stored
        yield from self.added


@dataclass
class Context:
    """What one batch needs, loaded once."""

    now: datetime
    cfg: alerting_config.AlertingConfig
    silences: list[silence.Silence]
    firing: Firing
    open_calendars: dict[str, bool]
    services: dict[int, Service] = field(default_factory=dict)
    # (service id, dedup key) -> the open alert, prefetched for the batch and kept current
    open_alerts: dict[tuple[int, str], Alert] = field(default_factory=dict)
    # (service id, dedup key) -> the latest alert resolved within the cooldown
    recently_resolved: dict[tuple[int, str], Alert] = field(default_factory=dict)
    # (service id, route, group key) -> the live group, looked up once per batch
    groups: dict[tuple[int, str, str], Any] = field(default_factory=dict)
    named: dict[str, Service | None] = field(default_factory=dict)
    integrations: dict[int, Any] = field(default_factory=dict)
    # incidents that groups point to (the session's own objects, so status changes show)
    incidents: dict[int, Any] = field(default_factory=dict)
    # keys of firing alerts not flushed yet (no id): placeholder -> alert
    unflushed: dict[str, Alert] = field(default_factory=dict)

    def is_source(self, labels: dict[str, str]) -> bool:
        """Only alerts that match some inhibition rule's source can ever mute another."""
        return any(matches_all(r.source, labels) for r in self.cfg.inhibit_rules)

    def key_of(self, alert: Alert) -> str:
        if alert.id is not None:
            return f"alert:{alert.id}"
        placeholder = f"pending:{id(alert)}"
        self.unflushed[placeholder] = alert
        return placeholder

    def integration(self, uow: UnitOfWork, integration_id: int | None) -> Any:
        if integration_id is None:
            return None
        if integration_id not in self.integrations:
            self.integrations[integration_id] = uow.integrations.get(integration_id)
        return self.integrations[integration_id]

    def incident(self, uow: UnitOfWork, incident_id: int) -> Any:
        if incident_id not in self.incidents:
            self.incidents[incident_id] = uow.incidents.get(incident_id)
        return self.incidents[incident_id]

    def service(self, uow: UnitOfWork, service_id: int) -> Service:
        if service_id not in self.services:
            self.services[service_id] = uow.services.get(service_id)
        return self.services[service_id]


SOURCES_FOR = "triage.inhibit_sources_for"


def load_context(uow: UnitOfWork, now: datetime) -> Context:
    cfg = alerting_config.load(uow)
    silences = [silence.Silence(r.id, parse_matchers(r.matchers, f"silence {r.id}"),
                                r.starts_at, r.ends_at, r.created_by,
                                r.comment, r.kind)
                for r in uow.silences.active_or_pending(now)]
    open_cal = {name: business_hours.is_open(cal, now) for name, cal in cfg.calendars.items()}
    ctx = Context(now, cfg, silences, Firing(lambda: _sources(uow, ctx)), open_cal)
    _check_source_marks(uow, ctx)
    return ctx


def _sources(uow: UnitOfWork, ctx: Context) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for row in uow.alerts.firing():
        labels = alert_labels(uow, ctx, row)
        if ctx.is_source(labels):
            found.append((f"alert:{row.id}", labels))
    return found


def _check_source_marks(uow: UnitOfWork, ctx: Context) -> None:
    """Open alerts carry a mark saying they match some inhibition rule's source, so that a
    batch reads only those. The marks hold for the rules they were computed with: when the
    rules change, every open alert is looked at again once."""
    rules = uow.settings.get("inhibit_rules", []) or []
    digest = hashlib.sha256(orjson.dumps(rules, option=orjson.OPT_SORT_KEYS)).hexdigest()
    if uow.settings.get(SOURCES_FOR) == digest:
        return
    after = 0
    while rows := uow.alerts.open_rows(after, 2000):
        on = {r.id for r in rows if ctx.is_source(alert_labels(uow, ctx, r))}
        off = [r.id for r in rows if r.inhibit_source and r.id not in on]
        uow.alerts.set_inhibit_source(sorted(on), True)
        uow.alerts.set_inhibit_source(off, False)
        after = rows[-1].id
    uow.settings.put(SOURCES_FOR, digest)


def alert_labels(uow: UnitOfWork, ctx: Context, a: Any) -> dict[str, str]:
    """The labels routes and rules see for an alert (its own plus Tocsin's)."""
    service = ctx.service(uow, a.service_id)
    integ = ctx.integration(uow, a.integration_id)
    return routing.routing_labels(a.labels or {}, service.name, service.tier, a.severity,
                                  a.source, integ.name if integ else "manual")


def process_pending(uow: UnitOfWork, limit: int = 500, max_alerts: int | None = None) -> int:
    """Triage accepted events, oldest first, in one transaction: up to `limit` events and
    about `max_alerts` alerts. On SQLite the batch is smaller because this transaction holds
    the only write lock, which people acknowledging and resolving need too (alert intake
    does not: it spools, see store/spool.py)."""
    with uow:
        if not try_processor_lock(uow.session, TRIAGE_LOCK):
            return 0
        if max_alerts is None:
            sqlite = uow.session.get_bind().dialect.name == "sqlite"
            max_alerts = SQLITE_BATCH_ALERTS if sqlite else 1000
        events = uow.intake.pending(limit, max_alerts)
        if not events:
            return 0
        ctx = load_context(uow, uow.clock.now())
        keys = list({a["dedup_key"] for ev in events for a in ev.alerts})
        ctx.open_alerts = {(a.service_id, a.dedup_key): a for a in uow.alerts.open_by_keys(keys)}
        since = ctx.now - timedelta(minutes=ctx.cfg.cooldown_minutes)
        ctx.recently_resolved = {(a.service_id, a.dedup_key): a
                                 for a in uow.alerts.resolved_since_by_keys(keys, since)}
        done = [(ev, _process_event(uow, ctx, ev)) for ev in events]
        uow.session.flush()  # the batch's new alerts get their ids here, in one insert
        for ev, outcomes in done:
            ev.processed_at = ctx.now
            ev.result = {**(ev.result or {}), "alerts": [
                {"dedup_key": key, "alert_id": alert.id if alert else None, "outcome": what}
                for key, alert, what in outcomes]}
        uow.commit()
        return len(events)


def inflow(uow: UnitOfWork, cap: int) -> tuple[int, datetime | None]:
    """(untriaged events, counted up to `cap`; when the newest event was received)."""
    with uow:
        return uow.intake.inflow(cap)


def _process_event(uow: UnitOfWork, ctx: Context,
                   ev: IntakeEvent) -> list[tuple[str, Alert | None, str]]:
    integ = ctx.integration(uow, ev.integration_id)
    outcomes = []
    for data in ev.alerts:
        alert, what = apply_event(uow, ctx, integ, ev, data)
        outcomes.append((data["dedup_key"], alert, what))
    for notice in (ev.result or {}).get("notices", []):
        uow.session.add(IntegrationNotice(
            integration_id=ev.integration_id, received_at=ev.received_at,
            kind=str(notice.get("kind", ""))[:60], message=str(notice.get("message", "")),
            data=dict(notice.get("data") or {})))
    return outcomes


def apply_event(uow: UnitOfWork, ctx: Context, integ: Any, ev: IntakeEvent,
                data: dict[str, Any]) -> tuple[Alert | None, str]:
    service = _service_for(uow, ctx, integ, data)
    slot = (service.id, data["dedup_key"])
    cached = ctx.open_alerts.get(slot)
    existing = cached if cached is not None and cached.status != "resolved" else None
    action = data["action"]
    if action == "resolve":
        if existing is None:
            return None, "resolve for an alert that is not open: nothing to do"
        act.resolve_alert(uow, ctx.now, existing, ev.id, f"resolved by {integ.type}")
        return existing, "resolved"
    if action == "acknowledge":
        if existing is None:
            return None, "acknowledge for an alert that is not open: nothing to do"
        act.acknowledge_alert(uow, ctx.now, existing, ev.id)
        return existing, "acknowledged"
    if existing is not None:
        act.repeat(ctx.now, existing, data, ev.id)
        if ctx.cfg.inhibit_rules:  # its labels may have changed
            existing.inhibit_source = ctx.is_source(alert_labels(uow, ctx, existing))
        return existing, f"deduplicated (seen {existing.count} times)"
    since = ctx.now - timedelta(minutes=ctx.cfg.cooldown_minutes)
    recent = cached if cached is not None and cached.resolved_at and cached.resolved_at >= since \
        else ctx.recently_resolved.get(slot)  # resolved earlier in this batch, or before it
    if recent is not None:
        ctx.open_alerts[slot] = recent
        act.reopen(uow, ctx.now, recent, data, ev.id, ctx.cfg.cooldown_minutes)
        recent.inhibit_source = ctx.is_source(alert_labels(uow, ctx, recent))
        if recent.incident_id is None:  # nothing to re-open: triage it again, as new
            recent.suppressed = recent.route = recent.queue = None
            triage_new(uow, ctx, service, integ, recent)
        return recent, "re-opened within the cooldown"
    alert = uow.alerts.add(act.new_alert(ctx.now, service.id, integ, data, ev.id))
    ctx.open_alerts[slot] = alert
    triage_new(uow, ctx, service, integ, alert)
    return alert, "new"


def _service_for(uow: UnitOfWork, ctx: Context, integ: Any, data: dict[str, Any]) -> Service:
    """The service a payload names, when Tocsin knows it; else the integration's."""
    named = data.get("service")
    if named:
        key = f"name:{named}"
        if key not in ctx.named:
            ctx.named[key] = uow.services.by_name(named)
        if ctx.named[key] is not None:
            return ctx.named[key]
    return ctx.service(uow, integ.service_id)


def triage_new(uow: UnitOfWork, ctx: Context, service: Service, integ: Any,
               alert: Alert) -> None:
    """Silence, inhibit, route — each decision stored on the alert with its reason."""
    labels = alert_labels(uow, ctx, alert)
    alert.inhibit_source = ctx.is_source(labels)
    key = ctx.key_of(alert)
    sil = silence.decide(ctx.silences, labels, ctx.now)
    if sil.silenced:
        act.decide(alert, ctx.now, "silenced", sil.reason, silence_id=sil.silence_id)
        alert.suppressed = "silenced"
        return
    inh = inhibition.decide(ctx.cfg.inhibit_rules, key, labels, ctx.firing)
    if inh.inhibited:
        if inh.source_key in ctx.unflushed:  # a source new in this batch: name it by its id
            uow.session.flush()
            inh = inhibition.decide(ctx.cfg.inhibit_rules, ctx.key_of(alert), labels,
                                    [(_real_key(ctx, k), v) for k, v in ctx.firing])
        act.decide(alert, ctx.now, "inhibited", inh.reason, rule=inh.rule, source=inh.source_key)
        alert.suppressed = "inhibited"
        return
    decision = routing.evaluate(ctx.cfg.routes, labels, ctx.open_calendars)
    act.decide(alert, ctx.now, "routed" if decision.matches else "unrouted", decision.reason)
    if not decision.matches:
        alert.suppressed = "unrouted"
        return
    for match in decision.matches:
        act.apply_route(uow, ctx, service, alert, match, labels)
    if alert.status != "resolved" and alert.suppressed is None and alert.inhibit_source:
        ctx.firing.append((key, labels))  # the same sources a later batch would see


def _real_key(ctx: Context, key: str) -> str:
    alert = ctx.unflushed.get(key)
    return f"alert:{alert.id}" if alert is not None and alert.id is not None else key


def flush_groups(uow: UnitOfWork, limit: int = 200) -> int:
    """Open the incident of each group whose group_wait has passed (if it still fires)."""
    with uow:
        if not try_processor_lock(uow.session, TRIAGE_LOCK):  # groups are triage's too
            return 0
        now = uow.clock.now()
        groups = uow.groups.waiting_due(now, limit)
        for group in groups:
            act.flush_group(uow, now, group)
        if groups:
            uow.commit()
        return len(groups)


def wake_snoozed(uow: UnitOfWork, limit: int = 200) -> int:
    """Alerts and incidents whose snooze has ended come back."""
    with uow:
        if not try_processor_lock(uow.session, TRIAGE_LOCK):
            return 0
        now = uow.clock.now()
        alerts = uow.alerts.snoozed_due(now, limit)
        incidents = uow.incidents.snoozed_due(now, limit)
        for alert in alerts:
            act.unsnooze_alert(alert, now, "snooze ended")
        for inc in incidents:
            act.unsnooze_incident(uow, inc, "snooze ended")
        if alerts or incidents:
            uow.commit()
        return len(alerts) + len(incidents)


def calendar_next_open(cfg: alerting_config.AlertingConfig, name: str,
                       now: datetime) -> datetime:
    return business_hours.next_open(cfg.calendars[name], now)

"""Escalation: policies, starting and stopping an incident's escalation, and the engine's
two processors — the escalator (due steps → outbox rows, once each) and the dispatcher
(outbox → notifier, every attempt recorded)."""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..domain import escalation as dom
from ..domain.auth import Actor, token_hash
from ..domain.errors import Conflict, NotFound
from ..ports import Delivery, Message, Notifier
from ..store.alerting_repos import try_processor_lock
from ..store.models import (
    AckToken,
    Escalation,
    Incident,
    Notification,
    NotificationAttempt,
    Service,
)
from ..store.uow import UnitOfWork
from . import contact_verification, notification_rules, schedules, shift_notices
from . import incidents as inc_svc
from .paging_messages import render

ESCALATOR_LOCK = 7_201_002
ENGINE = Actor(None, "escalation", "admin")
CLAIM_SECONDS = 120          # a send not settled by then is "unknown", never sent twice
ACK_LINK_HOURS = 24


# --- starting and stopping (inside the caller's transaction) -------------------------------


def start_in(uow: UnitOfWork, inc: Incident, policy_name: str | None = None) -> Escalation | None:
    """Start a policy for a triggered incident — the one an alert route names, else the
    service's — snapshotted: editing the policy later does not change this escalation.
    The first step is due at once."""
    row = uow.policies.by_name(policy_name) if policy_name else None
    if policy_name and row is None:
        inc_svc.append_in(uow, ENGINE, inc, "escalation", {
            "text": f"The alert route asks to page policy {policy_name!r}, which does not "
                    "exist: the service's policy (if any) is used", "event": "missing_policy"})
    if row is None:
        service = uow.services.get(inc.service_id)
        if service is None or service.escalation_policy_id is None:
            return None
        row = uow.policies.get(service.escalation_policy_id)
    if row is None:
        return None
    snapshot = {"name": row.name, "repeat": row.repeat, "steps": row.steps}
    now = uow.clock.now()
    # A snoozed incident (routed after hours) pages when its snooze ends.
    first = max(now, inc.snoozed_until) if inc.snoozed_until else now
    esc = uow.escalations.add(Escalation(
        incident_id=inc.id, policy_id=row.id, policy=snapshot, status="active", round=0, step=0,
        next_at=first, started_at=now))
    inc_svc.append_in(uow, ENGINE, inc, "escalation", {
        "text": f"Escalation started: policy {row.name} ({len(row.steps)} step(s), "
                f"{row.repeat} repeat(s))", "escalation_id": esc.id, "event": "started"})
    return esc


def stop_in(uow: UnitOfWork, inc: Incident, status: str, why: str) -> None:
    """Acknowledge stops the escalation and cancels pages not sent yet; resolve stops
    everything: every message not sent yet is cancelled."""
    now = uow.clock.now()
    for esc in uow.escalations.active_for(inc.id):
        esc.status, esc.next_at, esc.ended_at, esc.ended_reason = status, None, now, why
        inc_svc.append_in(uow, ENGINE, inc, "escalation", {
            "text": f"Escalation stopped: {why}", "escalation_id": esc.id, "event": status})
    for n in uow.notifications.pending_for(inc.id):
        # an ack answers the pages; role and checkpoint messages still have news to give
        if status == "resolved" or n.purpose == "page":
            n.status, n.next_attempt_at, n.last_error = "cancelled", None, why


# --- the escalator ------------------------------------------------------------------------


def fire_due(uow: UnitOfWork, limit: int = 200) -> int:
    """Fire every escalation step that is due: one outbox row per person and contact
    method (a unique key makes a step fire once), then move to the next step."""
    with uow:
        if not try_processor_lock(uow.session, ESCALATOR_LOCK):
            return 0
        now = uow.clock.now()
        due = uow.escalations.due(now, limit)
        uow.incidents.preload(Incident, (e.incident_id for e in due))
        methods: dict[int, Any] = {}   # person -> contact methods, read once per batch
        for esc in due:
            _fire(uow, esc, now, methods)
        if due:
            uow.commit()
        return len(due)


def _fire(uow: UnitOfWork, esc: Escalation, now: datetime, methods_of: dict[int, Any]) -> None:
    policy = dom.from_snapshot(esc.policy)
    pos = dom.Position(esc.round, esc.step)
    inc = uow.incidents.get(esc.incident_id)
    if pos.step >= len(policy.steps):  # the last step's wait is over, unacknowledged
        last = policy.steps[-1].delay_minutes
        esc.status, esc.next_at, esc.ended_at = "exhausted", None, now
        esc.ended_reason = f"nobody acknowledged within {last} min of the last step"
        inc_svc.append_in(uow, ENGINE, inc, "escalation", {
            "text": f"Escalation exhausted: {esc.ended_reason} of {policy.name}",
            "escalation_id": esc.id, "event": "exhausted"})
        return
    paged: list[str] = []
    for user_id in people_for(uow, policy.steps[pos.step].targets, now, inc):
        user = uow.users.get(user_id)
        if user is None or not user.active:
            continue
        if user_id not in methods_of:   # contact methods and notification rules, once a batch
            methods_of[user_id] = notification_rules.contacts_of(uow, user_id)
        # The person's rules: a page after a delay waits in the outbox; an ack cancels it.
        pages = notification_rules.pages_for(methods_of[user_id], inc.severity)
        for m, delay in pages:
            uow.notifications.add_once({
                "key": f"esc:{esc.id}:r{pos.round}:s{pos.step}:u{user_id}:m{m.id}"
                       + (f":d{delay}" if delay else ""),
                "incident_id": esc.incident_id, "escalation_id": esc.id, "user_id": user_id,
                "contact_method_id": m.id, "channel": m.type, "address": m.address,
                "purpose": "page", "status": "pending", "attempts": 0,
                "context": {"round": pos.round, "step": pos.step, "delay_minutes": delay},
                "next_attempt_at": now + timedelta(minutes=delay), "last_error": "",
                "created_at": now})
        paged.append(f"{user.name} ({notification_rules.describe(pages) or 'no contact method'})")
    fired_at = esc.next_at or now
    nxt = dom.after(policy, pos)
    step_text = (f"step {pos.step + 1} of {len(policy.steps)}"
                 + (f", round {pos.round + 1} of {policy.repeat + 1}" if policy.repeat else ""))
    inc_svc.append_in(uow, ENGINE, inc, "escalation", {
        "text": f"Paged {', '.join(paged) or 'nobody (no active person to page)'} — "
                f"{step_text} of {policy.name}", "escalation_id": esc.id, "event": "step",
        "round": pos.round, "step": pos.step})
    # After the last step the escalation still waits that step's delay for an ack.
    esc.round, esc.step = (nxt.round, nxt.step) if nxt else (pos.round, len(policy.steps))
    esc.next_at = dom.next_due(policy, pos, fired_at)


def people_for(uow: UnitOfWork, targets: tuple[dom.Target, ...], now: datetime,
               inc: Incident | None, fill_roles: bool = True) -> list[int]:
    """Who a step pages: the person; every member of the team; whoever is on call on the
    schedule now (nobody in a gap); whoever holds the role on the incident (filled from the
    role's schedule first if nobody does)."""
    from . import roles

    seen: list[int] = []
    for t in targets:
        if t.type == "person":
            ids = [t.id]
        elif t.type == "team":
            ids = uow.people.team_member_ids(t.id)
        elif t.type == "role":
            role = uow.roles.get(t.id)
            if role is None or inc is None:
                who = None
            elif fill_roles:
                who = roles.holder_in(uow, ENGINE, inc, role.key)
            else:   # only who holds it now (filling a role must not page or fill others)
                held = uow.roles.holder(inc.id, role.key)
                who = held.user_id if held else None
            ids = [who] if who else []
        else:
            row = uow.schedules.get(t.id)
            who = schedules.who_is_on_call(uow, row, now).user_id if row else None
            ids = [who] if who else []
        seen += [i for i in ids if i not in seen]
    return seen


def targets_of(step: dict[str, Any]) -> tuple[dom.Target, ...]:
    """A stored policy step's targets."""
    return tuple(dom.Target(t["type"], t["id"]) for t in step.get("targets", []))


def next_due(uow: UnitOfWork) -> datetime | None:
    """The soonest escalation step, checkpoint timer or page due (the engine sleeps until
    then, at most)."""
    with uow:
        found = [t for t in (uow.escalations.next_due_at(), uow.notifications.next_due_at(),
                             uow.tasks.next_due_at()) if t]
        return min(found) if found else None


# --- the dispatcher -----------------------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    id: int
    message: Message


SENDERS = 8   # pages sent at once: providers answer in 100s of ms; pages must not queue


def dispatch(uow_factory: Any, notifier: Notifier, base_url: str, limit: int = 100) -> int:
    """Claim due outbox rows (committed before any send, so a crash can only leave a row
    "unknown", never send it twice), send them in parallel, and record what happened (one
    transaction for the batch)."""
    uow = uow_factory()
    claimed = _claim(uow, base_url, limit)
    if not claimed:
        return 0

    def send(c: Claimed) -> tuple[int, Delivery, datetime]:
        try:
            result = notifier.send(c.message)
        except Exception as exc:  # noqa: BLE001 - an adapter bug is a failed attempt
            result = Delivery("failed", True, f"{type(exc).__name__}: {exc}")
        return c.id, result, uow.clock.now()

    with ThreadPoolExecutor(min(SENDERS, len(claimed)), "tocsin-send") as pool:
        results = list(pool.map(send, claimed))
    _settle(uow_factory(), results)
    return len(claimed)


def _claim(uow: UnitOfWork, base_url: str, limit: int) -> list[Claimed]:
    with uow:
        now = uow.clock.now()
        stuck = uow.notifications.stuck(now, limit)
        for n in stuck:
            n.status, n.claimed_until = "unknown", None
            n.last_error = "the send did not report back in time; it may or may not have arrived"
            uow.notifications.add_attempt(NotificationAttempt(
                notification_id=n.id, at=now, status="unknown", detail=n.last_error))
        rows = uow.notifications.due(now, limit)
        uow.incidents.preload(Incident, (n.incident_id for n in rows))
        uow.services.preload(Service, (uow.incidents.get(n.incident_id).service_id
                                       for n in rows if n.incident_id))
        out = []
        for n in rows:
            n.status, n.attempts = "sending", n.attempts + 1
            n.claimed_until = now + timedelta(seconds=CLAIM_SECONDS)
            if n.purpose in ("shift", "gap"):   # on-call notices: no incident, no ack
                out.append(Claimed(n.id, shift_notices.render(n, base_url)))
                continue
            if n.incident_id is None:   # a contact method's test message: no incident, no ack
                out.append(Claimed(n.id, contact_verification.claim_message(uow, n, base_url)))
                continue
            inc = uow.incidents.get(n.incident_id)
            token = ""
            if n.purpose == "page":   # only a page asks to be acknowledged (not role news)
                token = secrets.token_urlsafe(24)
                uow.ack_tokens.add(AckToken(
                    token_hash=token_hash(token), incident_id=inc.id, user_id=n.user_id,
                    notification_id=n.id, created_at=now,
                    expires_at=now + timedelta(hours=ACK_LINK_HOURS)))
            service = uow.services.get(inc.service_id)
            out.append(Claimed(n.id, render(n, inc, service.name, base_url, token)))
        if stuck or rows:
            uow.commit()
        return out


def _settle(uow: UnitOfWork, results: list[tuple[int, Delivery, datetime]]) -> None:
    with uow:
        uow.notifications.preload(Notification, (r[0] for r in results))
        for notification_id, result, at in results:
            n = uow.notifications.get(notification_id)
            if n is None or n.status != "sending":
                continue  # marked unknown meanwhile: leave it so
            n.claimed_until = None
            uow.notifications.add_attempt(NotificationAttempt(
                notification_id=n.id, at=at, status=result.status, detail=result.detail[:2000]))
            n.status, n.next_attempt_at = dom.after_attempt(result.status == "sent",
                                                            result.retryable, n.attempts, at)
            n.sent_at, n.last_error = (at, "") if n.status == "sent" else (None, result.detail)
        uow.commit()



# --- reading and acknowledging --------------------------------------------------------------


@dataclass(frozen=True)
class AttemptView:
    at: datetime
    status: str
    detail: str


@dataclass(frozen=True)
class NotificationView:
    id: int
    channel: str
    address: str
    person: str | None
    purpose: str
    status: str
    attempts: list[AttemptView]
    created_at: datetime
    sent_at: datetime | None
    last_error: str


@dataclass(frozen=True)
class EscalationView:
    id: int
    policy: str
    status: str
    step: int           # 1-based, of `steps`
    steps: int
    round: int          # 1-based, of `rounds`
    rounds: int
    next_at: datetime | None
    started_at: datetime
    ended_reason: str


def escalations_for(uow: UnitOfWork, incident_id: int) -> list[EscalationView]:
    with uow:
        out = []
        for e in uow.escalations.for_incident(incident_id):
            steps = len(e.policy.get("steps", []))
            out.append(EscalationView(e.id, e.policy.get("name", ""), e.status,
                                      min(e.step + 1, steps), steps, e.round + 1,
                                      int(e.policy.get("repeat", 0)) + 1, e.next_at,
                                      e.started_at, e.ended_reason))
        return out


def notifications_for(uow: UnitOfWork, incident_id: int) -> list[NotificationView]:
    with uow:
        if uow.incidents.get(incident_id) is None:
            raise NotFound(f"no incident {incident_id}")
        rows = uow.notifications.for_incident(incident_id)
        tries: dict[int, list[AttemptView]] = {}
        for a in uow.notifications.attempts([n.id for n in rows]):
            tries.setdefault(a.notification_id, []).append(AttemptView(a.at, a.status, a.detail))
        names = {n.user_id: (u.name if (u := uow.users.get(n.user_id)) else None)
                 for n in rows if n.user_id}
        return [NotificationView(n.id, n.channel, n.address, names.get(n.user_id), n.purpose,
                                 n.status, tries.get(n.id, []), n.created_at, n.sent_at,
                                 n.last_error) for n in rows]


@dataclass(frozen=True)
class AckLink:
    incident_id: int
    number: int
    title: str
    severity: str
    status: str
    person: str | None
    usable: bool
    why_not: str


def ack_link(uow: UnitOfWork, token: str) -> AckLink:
    """What a link would acknowledge (shown before the person confirms: mail scanners
    follow links, so opening one must not acknowledge anything)."""
    with uow:
        return _link(uow, token)[0]


def _link(uow: UnitOfWork, token: str) -> tuple[AckLink, AckToken]:
    row = uow.ack_tokens.get(token_hash(token or ""))
    if row is None:
        raise NotFound("this acknowledge link is not valid")
    inc = uow.incidents.get(row.incident_id)
    user = uow.users.get(row.user_id) if row.user_id else None
    why = dom.link_problem(row.used_at, row.expires_at, inc.status, uow.clock.now())
    return AckLink(inc.id, inc.number, inc.title, inc.severity, inc.status,
                   user.name if user else None, not why, why), row


def acknowledge_by_link(uow: UnitOfWork, token: str) -> AckLink:
    """Acknowledge as the person the link was sent to; the link works once."""
    with uow:
        link, row = _link(uow, token)
        if not link.usable:
            raise Conflict(f"this acknowledge link cannot be used: {link.why_not}")
        user = uow.users.get(row.user_id) if row.user_id else None
        actor = Actor(user.id, user.name, user.role) if user else ENGINE
        row.used_at = uow.clock.now()
        inc = uow.incidents.get(row.incident_id)
        inc_svc.transition_in(uow, actor, inc, "acknowledge", "acknowledged from the link in a "
                                                               "notification")
        view = AckLink(link.incident_id, link.number, link.title, link.severity, inc.status,
                       link.person, False, "it was used already")
        uow.commit()
        return view

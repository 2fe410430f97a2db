"""Playbook checkpoints on incidents: the per-severity playbooks (API and configuration),
the tasks they put on an incident, the engine processor that opens them, reminds the role
holder and marks them overdue, and people marking them (and their checklists) done."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..domain import checkpoints as dom
from ..domain.auth import Actor
from ..domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from ..store.alerting_repos import try_processor_lock
from ..store.models import Incident, IncidentTask, Playbook
from ..store.uow import UnitOfWork
from . import incidents as inc_svc
from . import notify
from .common import PersonRef, actor_label, person_ref

CHECKPOINT_LOCK = 7_201_003
ENGINE = Actor(None, "playbook", "admin")
LIVE = ("pending", "open", "overdue")


# --- playbooks ---------------------------------------------------------------------------


def checked(uow: UnitOfWork, data: Any) -> dom.Playbook:
    playbook, errors = dom.parse(data)
    if playbook is None:
        raise ValidationFailed(errors, "invalid playbook")
    keys = {r.key for r in uow.roles.list()}
    errors = [FieldError(f"checkpoints[{i}].role", f"no incident role {c.role!r}")
              for i, c in enumerate(playbook.checkpoints) if c.role and c.role not in keys]
    if errors:
        raise ValidationFailed(errors, "invalid playbook")
    return playbook


def save_in(uow: UnitOfWork, p: dom.Playbook) -> Playbook:
    row = uow.playbooks.for_severity(p.severity) or uow.playbooks.add(Playbook(
        severity=p.severity, name=p.name, spec={}, updated_at=uow.clock.now()))
    row.name, row.spec, row.updated_at = p.name, dom.as_dict(p), uow.clock.now()
    return row


def put_playbook(uow: UnitOfWork, actor: Actor, data: Any) -> dict[str, Any]:
    actor.require("config:write")
    with uow:
        p = checked(uow, data)
        row = save_in(uow, p)
        uow.record(actor_label(actor), "playbook.put", f"playbook:{p.severity}", row.spec)
        uow.commit()
        return dict(row.spec)


def list_playbooks(uow: UnitOfWork) -> list[dict[str, Any]]:
    with uow:
        return [dict(r.spec) for r in uow.playbooks.list()]


def delete_playbook(uow: UnitOfWork, actor: Actor, severity: str) -> None:
    actor.require("config:write")
    with uow:
        row = uow.playbooks.for_severity(severity)
        if row is None:
            raise NotFound(f"no playbook for {severity}")
        uow.playbooks.delete(row)
        uow.record(actor_label(actor), "playbook.delete", f"playbook:{severity}", {})
        uow.commit()


# --- on the incident -----------------------------------------------------------------------


def start_in(uow: UnitOfWork, actor: Actor, inc: Incident) -> int:
    """Put the playbook of the incident's severity on it, timed from now (or from the end of
    a snooze). Tasks already planned are not planned again."""
    row = uow.playbooks.for_severity(inc.severity)
    playbook = dom.parse(row.spec)[0] if row else None
    if playbook is None or not playbook.checkpoints:
        return 0
    now = uow.clock.now()
    origin = max(now, inc.snoozed_until) if inc.snoozed_until else now
    added = [t for t in (_add(uow, inc, p, origin) for p in dom.plan(playbook, origin)) if t]
    for t in added:
        if t.starts_at <= now:   # starts with the incident: open at once (no engine needed)
            step = dom.on_due(t.stage, t.status, t.starts_at, t.deadline, t.remind_at, now)
            t.stage, t.next_at = step.stage, step.next_at
            _open(uow, inc, t, now)
    if added:
        inc_svc.append_in(uow, actor, inc, "checkpoint", {
            "event": "playbook", "severity": inc.severity, "playbook": playbook.name,
            "text": f"Playbook {playbook.name}: " + "; ".join(
                f"+{t.checkpoint['at_minutes']} min {t.title}" for t in added)})
    return len(added)


def _add(uow: UnitOfWork, inc: Incident, p: dom.Planned, origin: datetime) -> IncidentTask | None:
    c = p.checkpoint
    key = p.key
    earlier = uow.tasks.by_key(inc.id, key)
    if earlier is not None and earlier.status == "cancelled" and earlier.origin != origin:
        # back at a severity after leaving it: its playbook runs again, from this origin
        key = f"{p.key}@{int(origin.timestamp())}"
    return uow.tasks.add(IncidentTask(
        incident_id=inc.id, key=key, title=c.title, description=c.description,
        role_key=c.role, checklist=[{"text": i, "done": False} for i in c.checklist],
        done_when=c.done_when, every_minutes=c.every_minutes, severity=inc.severity,
        occurrence=p.n, origin=origin, checkpoint=_snapshot(c), notify=c.notify,
        remind_at=dom.remind_time(c, p.starts_at, p.deadline), starts_at=p.starts_at,
        deadline=p.deadline, status="pending", next_at=p.starts_at, stage="start"))


def _snapshot(c: dom.Checkpoint) -> dict[str, Any]:
    return dom.as_dict(dom.Playbook("P1", "", (c,)))["checkpoints"][0]


def _restore(t: IncidentTask) -> dom.Checkpoint:
    p, errors = dom.parse({"severity": "P1", "checkpoints": [t.checkpoint]})
    if p is None:
        raise ValueError(f"bad checkpoint snapshot on task {t.id}: {errors}")
    return p.checkpoints[0]


def severity_changed_in(uow: UnitOfWork, actor: Actor, inc: Incident) -> None:
    """The old severity's checkpoints no longer apply; the new one's start now."""
    stale = [t for t in uow.tasks.live(inc.id) if t.severity and t.severity != inc.severity
             and t.status != "overdue"]   # a missed checkpoint stays on record as missed
    _close(uow, actor, inc, stale, "cancelled",
           f"the incident is {inc.severity} now: {len(stale)} {_s(stale)} of the "
           f"{stale[0].severity if stale else ''} playbook cancelled")
    start_in(uow, actor, inc)


def status_changed_in(uow: UnitOfWork, actor: Actor, inc: Incident, action: str) -> None:
    """Acknowledging completes the checkpoints that ask for it; resolving ends them all."""
    live = uow.tasks.live(inc.id)
    if inc.status in ("resolved", "closed"):   # overdue ones stay so: the record of a miss
        ahead = [t for t in live if t.status in ("pending", "open")]
        _close(uow, actor, inc, ahead, "cancelled",
               f"the incident is {inc.status}: {len(ahead)} open {_s(ahead)} cancelled")
    elif action == "acknowledge":
        for t in live:
            if t.done_when == "acknowledged":
                _done(uow, actor, inc, t, "done when the incident was acknowledged")


def _s(items: list[Any]) -> str:
    return "checkpoint" if len(items) == 1 else "checkpoints"


def _close(uow: UnitOfWork, actor: Actor, inc: Incident, tasks: list[IncidentTask],
           status: str, text: str) -> None:
    if not tasks:
        return
    for t in tasks:
        t.status, t.next_at = status, None
    inc_svc.append_in(uow, actor, inc, "checkpoint", {
        "event": status, "task_ids": [t.id for t in tasks], "text": text})


def _done(uow: UnitOfWork, actor: Actor, inc: Incident, t: IncidentTask, note: str) -> None:
    now = uow.clock.now()
    if t.status == "pending" and t.every_minutes:   # done early: the series still goes on
        _add(uow, inc, dom.next_occurrence(t.severity, _restore(t), t.origin, t.occurrence, now),
             t.origin)
    late = t.status == "overdue" or now > t.deadline
    open_items = sum(not i["done"] for i in t.checklist or [])
    if open_items:
        note = (f"{note}; " if note else "") + f"{open_items} of {len(t.checklist)} checklist " \
                                               "items not ticked"
    t.status, t.next_at, t.done_at, t.done_by = "done", None, now, actor.name
    inc_svc.append_in(uow, actor, inc, "checkpoint", {
        "event": "done", "task_id": t.id, "title": t.title, "late": late, "note": note,
        "text": f"Checkpoint done{' (late)' if late else ''}: {t.title}"
                + (f" — {note}" if note else "")})


# --- the engine processor ------------------------------------------------------------------


def process_due(uow: UnitOfWork, limit: int = 200) -> int:
    """Open the checkpoints whose time has come (planning a repeating one's next occurrence),
    remind their role's holder before the deadline, mark them overdue after it."""
    with uow:
        if not try_processor_lock(uow.session, CHECKPOINT_LOCK):
            return 0
        due = uow.tasks.due(uow.clock.now(), limit)
        uow.incidents.preload(Incident, (t.incident_id for t in due))
        for t in due:
            _advance(uow, t)
        if due:
            uow.commit()
        return len(due)


def _advance(uow: UnitOfWork, t: IncidentTask) -> None:
    """Every stage now due, in order (a late engine catches up in one pass)."""
    inc = uow.incidents.get(t.incident_id)
    if inc.status in ("resolved", "closed"):
        t.status, t.next_at = "cancelled", None
        return
    now = uow.clock.now()
    while t.next_at is not None and t.next_at <= now:
        step = dom.on_due(t.stage, t.status, t.starts_at, t.deadline, t.remind_at, now)
        t.stage, t.next_at = step.stage, step.next_at
        _act(uow, inc, t, step.action, now)


def _act(uow: UnitOfWork, inc: Incident, t: IncidentTask, action: str, now: datetime) -> None:
    due_by = t.deadline.strftime("%H:%M UTC")
    if action == "open":
        _open(uow, inc, t, now)
        who = _tell(uow, inc, t, "checkpoint", now)
        _log(inc, uow, t, "opened", f"Checkpoint for {who}, due by {due_by}: {t.title}")
    elif action == "remind":
        who = _tell(uow, inc, t, "reminder", now)
        _log(inc, uow, t, "reminded", f"Reminder sent to {who}: {t.title} is due by {due_by}")
    elif action == "overdue":
        t.status = "overdue"
        who = _tell(uow, inc, t, "overdue", now)
        _log(inc, uow, t, "overdue", f"Checkpoint overdue (was due by {due_by}, {who}): {t.title}")


def _open(uow: UnitOfWork, inc: Incident, t: IncidentTask, now: datetime) -> None:
    t.status = "open"
    if t.every_minutes:   # the next occurrence, so the series goes on until resolved
        _add(uow, inc, dom.next_occurrence(t.severity, _restore(t), t.origin, t.occurrence,
                                           now), t.origin)


def _tell(uow: UnitOfWork, inc: Incident, t: IncidentTask, purpose: str, now: datetime) -> str:
    """Message the holder of the task's role (filling the role if nobody holds it) when the
    domain says so; return who that is, for the timeline."""
    from . import roles

    if not t.role_key:
        return "anyone"
    holder = roles.holder_in(uow, ENGINE, inc, t.role_key)
    if holder is None:
        return f"{t.role_key} (nobody holds it)"
    user = uow.users.get(holder)
    role = uow.roles.by_key(t.role_key)
    action = {"checkpoint": "open", "reminder": "remind"}.get(purpose, purpose)
    running = purpose == "overdue" and bool(uow.escalations.active_for(inc.id))
    if dom.tells_holder(action, _restore(t), t.occurrence, now >= t.deadline, running):
        notify.person_in(uow, inc.id, holder, purpose, f"task:{t.id}:{purpose}", {
            "task_id": t.id, "task": t.title, "role_name": role.name if role else t.role_key,
            "deadline": t.deadline.isoformat(), "description": t.description})
    return f"{user.name} ({role.name if role else t.role_key})"


def _log(inc: Incident, uow: UnitOfWork, t: IncidentTask, event: str, text: str) -> None:
    inc_svc.append_in(uow, ENGINE, inc, "checkpoint", {
        "event": event, "task_id": t.id, "title": t.title, "role": t.role_key, "text": text})


# --- people working the tasks --------------------------------------------------------------


@dataclass(frozen=True)
class TaskView:
    id: int
    key: str
    title: str
    description: str
    role: str | None
    role_name: str | None
    holder: PersonRef | None
    status: str
    starts_at: datetime
    deadline: datetime
    done_at: datetime | None
    done_by: str
    checklist: list[dict[str, Any]]
    recurring: bool


def tasks_for(uow: UnitOfWork, incident_id: int) -> list[TaskView]:
    with uow:
        if uow.incidents.get(incident_id) is None:
            raise NotFound(f"no incident {incident_id}")
        holders = {a.role_key: a.user_id for a in uow.roles.holders(incident_id)}
        names = {r.key: r.name for r in uow.roles.list()}
        return [TaskView(t.id, t.key, t.title, t.description, t.role_key,
                         names.get(t.role_key or "", t.role_key),
                         person_ref(uow.users.get(holders[t.role_key]))
                         if t.role_key in holders else None, t.status, t.starts_at,
                         t.deadline, t.done_at, t.done_by, list(t.checklist or []),
                         bool(t.every_minutes)) for t in uow.tasks.for_incident(incident_id)]


def _task(uow: UnitOfWork, incident_id: int, task_id: int) -> tuple[Incident, IncidentTask]:
    inc = uow.incidents.get(incident_id)
    t = uow.tasks.get(task_id) if inc else None
    if t is None or t.incident_id != incident_id:
        raise NotFound(f"no task {task_id} on incident {incident_id}")
    return inc, t


def complete(uow: UnitOfWork, actor: Actor, incident_id: int, task_id: int,
             note: str = "") -> TaskView:
    actor.require("incidents:write")
    with uow:
        inc, t = _task(uow, incident_id, task_id)
        if t.status not in LIVE:
            raise Conflict(f"the checkpoint is {t.status} already")
        _done(uow, actor, inc, t, (note or "").strip()[:1000])
        uow.record(actor_label(actor), "incident.task.done", f"incident:{inc.id}",
                   {"task": t.key})
        uow.commit()
    return next(v for v in tasks_for(uow, incident_id) if v.id == task_id)


def check_item(uow: UnitOfWork, actor: Actor, incident_id: int, task_id: int, index: int,
               done: bool) -> TaskView:
    """Tick (or untick) one item of a checkpoint's checklist; on the timeline."""
    actor.require("incidents:write")
    with uow:
        inc, t = _task(uow, incident_id, task_id)
        if t.status not in LIVE:
            raise Conflict(f"the checkpoint is {t.status}: its checklist is closed")
        items = list(t.checklist or [])
        if not 0 <= index < len(items):
            raise ValidationFailed([FieldError("index", f"0 to {len(items) - 1}")],
                                   "no such checklist item")
        if items[index]["done"] == done:
            raise Conflict("the item is already " + ("ticked" if done else "unticked"))
        items[index] = {**items[index], "done": done}
        t.checklist = items
        inc_svc.append_in(uow, actor, inc, "checkpoint", {
            "event": "item", "task_id": t.id, "index": index, "done": done,
            "text": f"{'☑' if done else '☐'} {items[index]['text']} ({t.title})"})
        uow.commit()
    return next(v for v in tasks_for(uow, incident_id) if v.id == task_id)

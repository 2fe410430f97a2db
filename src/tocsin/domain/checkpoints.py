"""Playbook checkpoints: the timed tasks an incident of a severity works through (P1: the
Engineering Responder acknowledges within 5 min, +15 the Incident Commander confirms scope,
+30 comms, +60 executives, hourly re-evaluation), and how each task moves through time:
start → reminder → deadline (overdue)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .errors import FieldError

KEY = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
DONE_WHEN = ("", "acknowledged")
MAX_MINUTES = 7 * 24 * 60
MAX_CHECKPOINTS, MAX_ITEMS = 30, 30


@dataclass(frozen=True)
class Checkpoint:
    key: str
    at_minutes: int
    title: str
    role: str | None
    description: str = ""
    deadline_minutes: int = 15         # after it starts
    remind_before_minutes: int = 5     # a reminder this long before the deadline
    checklist: tuple[str, ...] = ()
    done_when: str = ""                # "acknowledged": done when the incident is
    every_minutes: int | None = None   # repeats until the incident is resolved
    notify: bool = True                # tell the role's holder when it starts


@dataclass(frozen=True)
class Playbook:
    severity: str
    name: str
    checkpoints: tuple[Checkpoint, ...]


def parse(data: Any) -> tuple[Playbook | None, list[FieldError]]:
    """`{severity, name?, checkpoints: [{key, at_minutes, title, role?, …}]}`."""
    if not isinstance(data, dict):
        return None, [FieldError("", "a playbook is an object with severity and checkpoints")]
    errors: list[FieldError] = []
    sev = data.get("severity")
    if sev not in ("P1", "P2", "P3", "P4"):
        errors.append(FieldError("severity", "one of P1, P2, P3, P4"))
    raw = data.get("checkpoints")
    if not isinstance(raw, list) or len(raw) > MAX_CHECKPOINTS:
        errors.append(FieldError("checkpoints", f"a list of at most {MAX_CHECKPOINTS}"))
        raw = []
    found = [_checkpoint(c, f"checkpoints[{i}]", errors) for i, c in enumerate(raw)]
    keys = [c.key for c in found if c]
    for k in {k for k in keys if keys.count(k) > 1}:
        errors.append(FieldError("checkpoints", f"key {k!r} is used twice"))
    name = data.get("name") or f"{sev} playbook"
    if not isinstance(name, str) or len(name) > 100:
        errors.append(FieldError("name", "at most 100 characters"))
    if errors:
        return None, errors
    return Playbook(sev, name, tuple(c for c in found if c)), []


def _checkpoint(raw: Any, path: str, errors: list[FieldError]) -> Checkpoint | None:
    if not isinstance(raw, dict):
        errors.append(FieldError(path, "a checkpoint is an object with key, at_minutes and title"))
        return None
    before = len(errors)

    def need(ok: bool, field: str, msg: str) -> None:
        if not ok:
            errors.append(FieldError(f"{path}.{field}", msg))

    key, title, role = raw.get("key"), raw.get("title"), raw.get("role")
    need(isinstance(key, str) and bool(KEY.match(key)), "key",
         "lower-case letters, digits, _ and -, at most 40")
    need(isinstance(title, str) and 0 < len(title.strip()) <= 200, "title",
         "required, at most 200 characters")
    need(role is None or isinstance(role, str), "role", "the key of an incident role")
    nums = {f: raw.get(f, d) for f, d in (("at_minutes", None), ("deadline_minutes", 15),
                                          ("remind_before_minutes", 5), ("every_minutes", None))}
    need(_int(nums["at_minutes"], 0), "at_minutes", f"minutes after declaring, 0 to {MAX_MINUTES}")
    need(_int(nums["deadline_minutes"], 1), "deadline_minutes",
         f"minutes to get it done once started, 1 to {MAX_MINUTES}")
    need(_int(nums["remind_before_minutes"], 0), "remind_before_minutes",
         "minutes before the deadline to remind (0: no reminder)")
    need(nums["every_minutes"] is None or _int(nums["every_minutes"], 5), "every_minutes",
         f"repeat every 5 to {MAX_MINUTES} minutes until resolved")
    items = raw.get("checklist", [])
    need(isinstance(items, list) and len(items) <= MAX_ITEMS
         and all(isinstance(i, str) and 0 < len(i) <= 300 for i in items), "checklist",
         f"a list of at most {MAX_ITEMS} items of text")
    need(raw.get("done_when", "") in DONE_WHEN, "done_when", "'' or acknowledged")
    if _int(nums["deadline_minutes"], 1) and _int(nums["remind_before_minutes"], 0):
        need(nums["remind_before_minutes"] < nums["deadline_minutes"], "remind_before_minutes",
             "less than deadline_minutes (a reminder before the deadline, after the start)")
    need(isinstance(raw.get("notify", True), bool), "notify", "true or false")
    need(isinstance(raw.get("description", ""), str), "description", "text")
    if len(errors) > before:
        return None
    return Checkpoint(key, nums["at_minutes"], title.strip(), role, raw.get("description", ""),
                      nums["deadline_minutes"], nums["remind_before_minutes"], tuple(items),
                      raw.get("done_when", ""), nums["every_minutes"], raw.get("notify", True))


def _int(v: Any, lo: int) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and lo <= v <= MAX_MINUTES


def as_dict(p: Playbook) -> dict[str, Any]:
    return {"severity": p.severity, "name": p.name, "checkpoints": [
        {k: v for k, v in (("key", c.key), ("at_minutes", c.at_minutes), ("title", c.title),
                           ("role", c.role), ("description", c.description),
                           ("deadline_minutes", c.deadline_minutes),
                           ("remind_before_minutes", c.remind_before_minutes),
                           ("checklist", list(c.checklist)), ("done_when", c.done_when),
                           ("every_minutes", c.every_minutes), ("notify", c.notify))
         if v not in (None, "", [])} for c in p.checkpoints]}


@dataclass(frozen=True)
class Planned:
    """One task to create: its key on the incident, when it starts and its deadline."""

    key: str
    n: int                  # which occurrence (0 for a one-off)
    checkpoint: Checkpoint
    starts_at: datetime
    deadline: datetime


def plan(p: Playbook, origin: datetime) -> list[Planned]:
    """The tasks a playbook starts with, timed from `origin` (declaration, or the severity
    change that brought the incident to this playbook's severity)."""
    return [occurrence(p.severity, c, origin, 0) for c in p.checkpoints]


def occurrence(severity: str, c: Checkpoint, origin: datetime, n: int) -> Planned:
    start = origin + timedelta(minutes=c.at_minutes + n * (c.every_minutes or 0))
    key = f"{severity}:{c.key}" + (f":{n + 1}" if c.every_minutes else "")
    return Planned(key, n, c, start, start + timedelta(minutes=c.deadline_minutes))


@dataclass(frozen=True)
class Step:
    """What the engine does when a task's timer is due, and the timer after it."""

    action: str                    # open | remind | overdue | none
    stage: str                     # the stage the timer moves to
    next_at: datetime | None


def on_due(stage: str, status: str, starts_at: datetime, deadline: datetime,
           remind_at: datetime | None, now: datetime) -> Step:
    """start → (remind) → due: a task done or cancelled meanwhile does nothing more; a late
    engine skips a reminder whose moment has passed (the open message, or the overdue one,
    says it all)."""
    if status in ("done", "cancelled"):
        return Step("none", stage, None)
    if stage == "start":
        if remind_at and starts_at < remind_at < deadline and now < remind_at:
            return Step("open", "remind", remind_at)
        return Step("open", "due", deadline)
    if stage == "remind":
        return Step("remind" if now < deadline else "none", "due", deadline)
    return Step("overdue" if status == "open" else "none", "done", None)


def next_occurrence(severity: str, c: Checkpoint, origin: datetime, after: int,
                    now: datetime) -> Planned:
    """The next occurrence of a repeating checkpoint after occurrence `after`, skipping those
    whose deadline passed while no engine ran (nobody can do them any more)."""
    n = after + 1
    while (p := occurrence(severity, c, origin, n)).deadline <= now:
        n += 1
    return p


def remind_time(c: Checkpoint, starts_at: datetime, deadline: datetime) -> datetime | None:
    if not c.remind_before_minutes:
        return None
    at = deadline - timedelta(minutes=c.remind_before_minutes)
    return at if at > starts_at else None


def tells_holder(action: str, c: Checkpoint, occurrence: int, late: bool,
                 escalation_running: bool) -> bool:
    """Whether a task's `action` (open | remind | overdue) messages its role's holder: not
    when the checkpoint says so; not for opening one that starts with the incident (the
    role's assignment message covers it) or one already past its deadline (the overdue
    message follows at once); not for an overdue acknowledgement while an escalation policy
    runs (its next step is what chases an unanswered page)."""
    if not c.notify:
        return False
    if action == "open":
        return not (occurrence == 0 and c.at_minutes == 0) and not late
    if action == "overdue" and c.done_when == "acknowledged":
        return not escalation_running
    return True

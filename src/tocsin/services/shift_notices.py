"""On-call handoff and gap notices: shortly before a shift starts, the incoming person is
told they are on call (from when, until when); a gap in a schedule within the next day is
told to the schedule's members, so someone can cover it. Each notice is sent once."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ..domain import schedule as sch
from ..ports import Message
from ..store.alerting_repos import try_processor_lock
from ..store.uow import UnitOfWork
from . import schedules

NOTICES_LOCK = 7_201_004
WHOLE_SHIFT = timedelta(days=35)         # how far a notice looks for its shift's end


def process(uow: UnitOfWork) -> int:
    """One pass over every schedule (the engine runs it once a minute)."""
    with uow:
        if not try_processor_lock(uow.session, NOTICES_LOCK):
            return 0   # another engine (PostgreSQL) is on it
        now = uow.clock.now()
        queued = 0
        for row in uow.schedules.list():
            shifts = schedules.shifts_in(uow, row, now - timedelta(minutes=1),
                                         now + sch.GAP_LOOKAHEAD)
            view = [sch.Shift(x.person.id if x.person else None, x.start, x.end, x.source)
                    for x in shifts]
            for kind, i in sch.notices_due(view, now):
                shift = _whole(uow, row, shifts[i])
                if kind == "gap":
                    queued += _gap(uow, row, shift)
                else:
                    queued += _queue(uow, shift.person.id, "shift", row,
                                     f"shift:{row.id}:{shift.start.isoformat()}", shift)
        if queued:
            uow.commit()
        return queued


def _whole(uow: UnitOfWork, row: Any, shift: Any) -> Any:
    """The shift to its real end (the lookahead window cut it at a day)."""
    found = schedules.shifts_in(uow, row, shift.start, shift.start + WHOLE_SHIFT)
    return found[0] if found else shift


def _gap(uow: UnitOfWork, row: Any, shift: Any) -> int:
    members = sorted({m for layer in row.spec["layers"] for m in layer["members"]})
    return sum(_queue(uow, m, "gap", row, f"gap:{row.id}:{shift.start.isoformat()}", shift)
               for m in members)


def _queue(uow: UnitOfWork, user_id: int, purpose: str, row: Any, key: str, shift: Any) -> int:
    user = uow.users.get(user_id)
    if user is None or not user.active:
        return 0
    now = uow.clock.now()
    queued = 0
    for m in uow.people.methods(user_id):
        queued += bool(uow.notifications.add_once({
            "key": f"{key}:u{user_id}:m{m.id}", "incident_id": None, "escalation_id": None,
            "user_id": user_id, "contact_method_id": m.id, "channel": m.type,
            "address": m.address, "purpose": purpose, "status": "pending", "attempts": 0,
            "context": {"schedule": row.name, "schedule_id": row.id,
                        "start": shift.start.isoformat(), "end": shift.end.isoformat(),
                        "time_zone": user.time_zone or "UTC"},
            "next_attempt_at": now, "last_error": "", "created_at": now}))
    return queued


def render(n: Any, base_url: str) -> Message:
    """A handoff or gap notice, times in the person's own zone."""
    ctx = n.context or {}
    zone = ZoneInfo(ctx.get("time_zone") or "UTC")

    def at(iso: str) -> str:
        return datetime.fromisoformat(iso).astimezone(zone).strftime("%a %d %b %H:%M %Z")

    page = f"{base_url}/schedules/{ctx.get('schedule_id')}"
    if n.purpose == "shift":
        subject = f"You are on call for {ctx['schedule']} from {at(ctx['start'])}"
        text = (f"You are on call for {ctx['schedule']} from {at(ctx['start'])} until "
                f"{at(ctx['end'])}.\nThe schedule: {page}\n")
    else:
        subject = f"Nobody is on call for {ctx['schedule']} from {at(ctx['start'])}"
        text = (f"{ctx['schedule']} has a gap: nobody is on call from {at(ctx['start'])} until "
                f"{at(ctx['end'])}. Pages to this schedule in that time reach nobody.\n"
                f"Cover it with an override: {page}\n")
    short = subject if n.channel != "email" else text
    return Message(n.channel, n.address, subject, short, {
        "purpose": n.purpose, **ctx, "subject": subject, "schedule_url": page})

"""On-call schedules: create and read them, overrides, who is on call now or at any time,
the final view with its gaps, and iCal feeds per schedule and per person (secret URLs)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from icalendar import Calendar, Event

from ..domain import schedule as sch
from ..domain.auth import Actor
from ..domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from ..store.models import PersonFeed, ScheduleOverride, ScheduleRow
from ..store.uow import UnitOfWork
from .common import PersonRef, actor_label, person_ref

MAX_VIEW_DAYS = 93          # the longest final view one request may ask for
FEED_PAST, FEED_AHEAD = timedelta(days=7), timedelta(days=60)


@dataclass(frozen=True)
class ScheduleView:
    id: int
    name: str
    time_zone: str
    layers: list[dict[str, Any]]
    feed_path: str          # the secret iCal URL's path (under TOCSIN_BASE_URL)


@dataclass(frozen=True)
class OnCallView:
    schedule: str
    at: datetime
    person: PersonRef | None
    source: str


@dataclass(frozen=True)
class ShiftView:
    start: datetime
    end: datetime
    person: PersonRef | None
    source: str


def _view(row: ScheduleRow) -> ScheduleView:
    return ScheduleView(row.id, row.name, row.time_zone, list(row.spec["layers"]),
                        f"/ical/schedules/{row.feed_token}.ics")


def _domain(row: ScheduleRow) -> sch.Schedule:
    schedule, errors = sch.parse(row.spec)
    if schedule is None:
        raise ValueError(f"stored schedule {row.id} no longer parses: {errors}")
    return schedule


def _checked(uow: UnitOfWork, data: dict[str, Any]) -> sch.Schedule:
    schedule, errors = sch.parse(data)
    if schedule is None:
        raise ValidationFailed(errors, "invalid schedule")
    for i, layer in enumerate(schedule.layers):
        for j, member in enumerate(layer.members):
            if uow.users.get(member) is None:
                raise ValidationFailed([FieldError(f"layers[{i}].members[{j}]",
                                                   f"no person {member}")], "invalid schedule")
    return schedule


def create_schedule(uow: UnitOfWork, actor: Actor, data: dict[str, Any]) -> ScheduleView:
    actor.require("config:write")
    with uow:
        schedule = _checked(uow, data)
        if uow.schedules.by_name(schedule.name):
            raise Conflict(f"a schedule named {schedule.name!r} exists already")
        now = uow.clock.now()
        row = uow.schedules.add(ScheduleRow(
            name=schedule.name, time_zone=schedule.time_zone, spec=sch.as_dict(schedule),
            feed_token=secrets.token_urlsafe(24), created_at=now, updated_at=now))
        uow.record(actor_label(actor), "schedule.create", f"schedule:{row.id}", row.spec)
        view = _view(row)
        uow.commit()
        return view


def update_schedule(uow: UnitOfWork, actor: Actor, schedule_id: int,
                    data: dict[str, Any]) -> ScheduleView:
    """Replace a schedule's name, zone and layers; overrides and the feed's URL stay."""
    actor.require("config:write")
    with uow:
        row = _need(uow, schedule_id)
        schedule = _checked(uow, data)
        other = uow.schedules.by_name(schedule.name)
        if other is not None and other.id != row.id:
            raise Conflict(f"a schedule named {schedule.name!r} exists already")
        row.name, row.time_zone, row.spec = schedule.name, schedule.time_zone, sch.as_dict(
            schedule)
        row.updated_at = uow.clock.now()
        uow.record(actor_label(actor), "schedule.update", f"schedule:{row.id}", row.spec)
        view = _view(row)
        uow.commit()
        return view


def list_schedules(uow: UnitOfWork) -> list[ScheduleView]:
    with uow:
        return [_view(r) for r in uow.schedules.list()]


def get_schedule(uow: UnitOfWork, schedule_id: int) -> ScheduleView:
    with uow:
        return _view(_need(uow, schedule_id))


@dataclass(frozen=True)
class RosterRow:
    schedule: ScheduleView
    now: ShiftView | None       # None: nobody (a gap) right now
    next: ShiftView | None      # the next shift with someone on call, within two weeks


def roster(uow: UnitOfWork) -> list[RosterRow]:
    """Every schedule: who is on call now (until when) and who is next."""
    with uow:
        now = uow.clock.now()
        out = []
        for row in uow.schedules.list():
            view = _shifts(uow, row, now, now + timedelta(days=14))
            current = view[0] if view and view[0].person else None
            upcoming = next((x for x in view[1:] if x.person), None)
            out.append(RosterRow(_view(row), current, upcoming))
        return out


def add_override(uow: UnitOfWork, actor: Actor, schedule_id: int, person_id: int,
                 start: datetime, end: datetime, reason: str = "") -> list[ShiftView]:
    """Someone covers [start, end) (a shift swap is two overrides). Returns the final view
    of that period."""
    actor.require("incidents:write")
    errors = []
    if start.tzinfo is None or end.tzinfo is None:
        errors.append(FieldError("start", "times need a zone offset, like 2026-12-01T09:00Z"))
    elif end <= start or end - start > timedelta(days=MAX_VIEW_DAYS):
        errors.append(FieldError("end", f"after start, at most {MAX_VIEW_DAYS} days later"))
    if errors:
        raise ValidationFailed(errors, "invalid override")
    _check_times(start=start, end=end)
    with uow:
        row = _need(uow, schedule_id)
        if uow.users.get(person_id) is None:
            raise ValidationFailed([FieldError("person_id", f"no person {person_id}")],
                                   "invalid override")
        uow.schedules.add_override(ScheduleOverride(
            schedule_id=row.id, user_id=person_id, starts_at=start, ends_at=end,
            reason=reason[:500], created_by=actor_label(actor), created_at=uow.clock.now()))
        uow.record(actor_label(actor), "schedule.override", f"schedule:{row.id}",
                   {"person_id": person_id, "start": start.isoformat(), "end": end.isoformat()})
        view = _shifts(uow, row, start, end)
        uow.commit()
        return view


@dataclass(frozen=True)
class NoticeView:
    purpose: str               # shift (a handoff to the person) | gap
    person: str | None
    channel: str
    address: str
    status: str
    start: datetime
    created_at: datetime


def notices(uow: UnitOfWork, schedule_id: int, limit: int = 50) -> list[NoticeView]:
    """The handoff and gap notices sent for a schedule, newest first."""
    with uow:
        _need(uow, schedule_id)
        out = []
        for n in uow.notifications.with_key_prefix((f"shift:{schedule_id}:",
                                                    f"gap:{schedule_id}:"), limit):
            user = uow.users.get(n.user_id) if n.user_id else None
            out.append(NoticeView(n.purpose, user.name if user else None, n.channel, n.address,
                                  n.status, datetime.fromisoformat(n.context["start"]),
                                  n.created_at))
        return out


def swap_shifts(uow: UnitOfWork, actor: Actor, schedule_id: int, first: datetime,
                second: datetime, reason: str = "") -> list[ShiftView]:
    """Two people trade shifts: whoever is on call at `first` takes the shift holding
    `second`, and the other way round (two overrides, in one transaction)."""
    actor.require("incidents:write")
    naive = [FieldError(k, "a time with a zone offset, like 2026-12-01T09:00Z")
             for k, v in (("first", first), ("second", second)) if v.tzinfo is None]
    if naive:
        raise ValidationFailed(naive, "invalid swap")
    _check_times(first=first, second=second)
    with uow:
        row = _need(uow, schedule_id)
        a, b = (_shift_at(uow, row, t, f) for t, f in ((first, "first"), (second, "second")))
        if a.person.id == b.person.id:
            raise ValidationFailed([FieldError("second", f"both shifts are {a.person.name}'s")],
                                   "invalid swap")
        why = (reason or "").strip()[:400] or f"swap: {a.person.name} ↔ {b.person.name}"
        now = uow.clock.now()
        for person, shift in ((b.person, a), (a.person, b)):
            uow.schedules.add_override(ScheduleOverride(
                schedule_id=row.id, user_id=person.id, starts_at=shift.start, ends_at=shift.end,
                reason=why, created_by=actor_label(actor), created_at=now))
        uow.record(actor_label(actor), "schedule.swap", f"schedule:{row.id}", {
            "first": [a.person.id, a.start.isoformat()], "second": [b.person.id,
                                                                    b.start.isoformat()]})
        view = [_shift_at(uow, row, a.start, "first"), _shift_at(uow, row, b.start, "second")]
        uow.commit()
        return view


def _shift_at(uow: UnitOfWork, row: ScheduleRow, at: datetime, field: str) -> ShiftView:
    found = _shifts(uow, row, at, at + timedelta(seconds=1))
    shift = found[0] if found else None
    if shift is None or shift.person is None:
        raise ValidationFailed([FieldError(field, "nobody is on call then (a gap)")],
                               "invalid swap")
    # the whole shift, not the second asked about
    whole = [x for x in _shifts(uow, row, at - timedelta(days=MAX_VIEW_DAYS // 3),
                                at + timedelta(days=MAX_VIEW_DAYS // 3))
             if x.start <= at < x.end]
    return whole[0] if whole else shift


def _check_times(**times: datetime) -> None:
    bad = [FieldError(k, f"between {sch.EARLIEST.year} and {sch.LATEST.year}")
           for k, v in times.items() if not sch.in_range(v)]
    if bad:
        raise ValidationFailed(bad, "time out of range")


def on_call(uow: UnitOfWork, schedule_id: int, at: datetime | None = None) -> OnCallView:
    if at is not None:
        _check_times(at=at)
    with uow:
        row = _need(uow, schedule_id)
        when = at or uow.clock.now()
        who = who_is_on_call(uow, row, when)
        return OnCallView(row.name, when, person_ref(uow.users.get(who.user_id))
                          if who.user_id else None, who.source)


def who_is_on_call(uow: UnitOfWork, row: ScheduleRow, at: datetime) -> sch.OnCall:
    """Inside the caller's transaction (the escalator pages a schedule's on-call person)."""
    return sch.on_call(_domain(row), _overrides(uow, row, at, at + timedelta(seconds=1)), at)


def final_view(uow: UnitOfWork, schedule_id: int, start: datetime,
               end: datetime) -> list[ShiftView]:
    _check_times(**{"from": start, "to": end})
    if end <= start or end - start > timedelta(days=MAX_VIEW_DAYS):
        raise ValidationFailed([FieldError("to", f"after from, at most {MAX_VIEW_DAYS} days "
                                                 "later")], "invalid period")
    with uow:
        return _shifts(uow, _need(uow, schedule_id), start, end)


def shifts_in(uow: UnitOfWork, row: ScheduleRow, start: datetime,
              end: datetime) -> list[ShiftView]:
    """The final view inside the caller's transaction (the roles roster)."""
    return _shifts(uow, row, start, end)


def _shifts(uow: UnitOfWork, row: ScheduleRow, start: datetime, end: datetime) -> list[ShiftView]:
    people: dict[int, PersonRef | None] = {}
    out = []
    for x in sch.shifts(_domain(row), _overrides(uow, row, start, end), start, end):
        if x.user_id and x.user_id not in people:
            people[x.user_id] = person_ref(uow.users.get(x.user_id))
        out.append(ShiftView(x.start, x.end, people.get(x.user_id) if x.user_id else None,
                             x.source))
    return out


def _overrides(uow: UnitOfWork, row: ScheduleRow, start: datetime,
               end: datetime) -> list[sch.Override]:
    return [sch.Override(o.user_id, o.starts_at, o.ends_at, o.id)
            for o in uow.schedules.overrides(row.id, start, end)]


def _need(uow: UnitOfWork, schedule_id: int) -> ScheduleRow:
    row = uow.schedules.get(schedule_id)
    if row is None:
        raise NotFound(f"no schedule {schedule_id}")
    return row


# --- iCal feeds (RFC 5545) -------------------------------------------------------------------


def schedule_feed(uow: UnitOfWork, token: str) -> bytes:
    """A schedule's shifts from a week ago to two months ahead, gaps included."""
    with uow:
        row = uow.schedules.by_feed(token)
        if row is None:
            raise NotFound("no calendar feed at this address")
        now = uow.clock.now()
        cal = _calendar(f"On call: {row.name}")
        for x in _shifts(uow, row, now - FEED_PAST, now + FEED_AHEAD):
            who = x.person.name if x.person else "NOBODY (gap)"
            _event(cal, f"{row.id}-{int(x.start.timestamp())}", x.start, x.end,
                   f"On call: {who} ({row.name})", x.source or "gap", now)
        return cal.to_ical()


def person_feed_path(uow: UnitOfWork, actor: Actor, user_id: int) -> str:
    """The secret iCal URL path of someone's own shifts (made on first use)."""
    if actor.user_id != user_id:
        actor.require("users:admin")
    with uow:
        if uow.users.get(user_id) is None:
            raise NotFound(f"no person {user_id}")
        feed = uow.schedules.feed_of(user_id)
        if feed is None:
            feed = PersonFeed(user_id=user_id, feed_token=secrets.token_urlsafe(24))
            uow.schedules.add_feed(feed)
            uow.commit()
        return f"/ical/people/{feed.feed_token}.ics"


def person_feed(uow: UnitOfWork, token: str) -> bytes:
    """A person's shifts on every schedule, a week back to two months ahead."""
    with uow:
        feed = uow.schedules.person_by_feed(token)
        if feed is None:
            raise NotFound("no calendar feed at this address")
        user = uow.users.get(feed.user_id)
        now = uow.clock.now()
        cal = _calendar(f"On call: {user.name}")
        for row in uow.schedules.list():
            for x in _shifts(uow, row, now - FEED_PAST, now + FEED_AHEAD):
                if x.person and x.person.id == user.id:
                    _event(cal, f"{row.id}-{user.id}-{int(x.start.timestamp())}", x.start,
                           x.end, f"On call: {row.name}", x.source, now)
        return cal.to_ical()


def _calendar(name: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", "-//Tocsin//on-call//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    return cal


def _event(cal: Calendar, uid: str, start: datetime, end: datetime, summary: str,
           source: str, now: datetime) -> None:
    ev = Event()
    ev.add("uid", f"{uid}@tocsin")
    ev.add("dtstamp", now)
    ev.add("dtstart", start)
    ev.add("dtend", end)
    ev.add("summary", summary)
    ev.add("description", f"from {source}" if source else "")
    cal.add_component(ev)

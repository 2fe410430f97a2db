"""Schedules on SQLite and PostgreSQL: who is on call, overrides, the final view with gaps,
iCal feeds that parse as RFC 5545, and escalation steps that page a schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from tocsin.domain.auth import cli_actor
from tocsin.domain.errors import NotFound, ValidationFailed
from tocsin.engine.engine import Engine
from tocsin.services import catalog, escalation, escalation_policies, incidents, people, schedules

ADMIN = cli_actor()
OUTAGE = {"impact": "outage", "criticality": "revenue", "restore_within": "immediately"}


@pytest.fixture
def crew(container):
    made = [people.create_person(container.uow(), ADMIN, n, f"{n.lower()}@example.com", "UTC",
                                 [{"type": "email", "address": f"{n.lower()}@example.com"}])
            for n in ("Ann", "Ben", "Cat")]
    return {p.name: p.id for p in made}


def weekly(container, crew, **extra):
    # clock starts Monday 2026-03-02 09:00 UTC (tests/conftest.py)
    return schedules.create_schedule(container.uow(), ADMIN, {
        "name": "primary", "time_zone": "Europe/London", "layers": [
            {"name": "weekly", "rotation": "weekly", "handoff": "09:00", "start": "2026-03-02",
             "members": [crew["Ann"], crew["Ben"]]},
            {"name": "weekdays", "rotation": "daily", "handoff": "09:00", "start": "2026-03-02",
             "members": [crew["Cat"]],
             "restrictions": [{"days": ["mon", "tue"], "start": "09:00", "end": "17:00"}]}],
        **extra})


def test_who_is_on_call_and_the_final_view(container, crew, clock):
    s = weekly(container, crew)
    now = schedules.on_call(container.uow(), s.id)
    assert (now.person.name, now.source) == ("Cat", "weekdays")
    later = schedules.on_call(container.uow(), s.id, clock.now() + timedelta(hours=9))
    assert (later.person.name, later.source) == ("Ann", "weekly")
    view = schedules.final_view(container.uow(), s.id, clock.now(), clock.now() + timedelta(days=8))
    names = [(v.person.name if v.person else None, v.source) for v in view]
    # Mon 09–17 Cat, then Ann; Tue 09–17 Cat, then Ann until the next Monday, when Cat
    # covers 09–17 again (hiding Ann → Ben at 09:00), then Ben
    assert names == [("Cat", "weekdays"), ("Ann", "weekly"), ("Cat", "weekdays"),
                     ("Ann", "weekly"), ("Cat", "weekdays"), ("Ben", "weekly")]


def test_overrides_cover_and_are_in_the_view(container, crew, clock):
    s = weekly(container, crew)
    start = clock.now() + timedelta(days=2)
    view = schedules.add_override(container.uow(), ADMIN, s.id, crew["Ben"], start,
                                  start + timedelta(hours=4), "swap with Ann")
    assert [(v.person.name, v.source) for v in view] == [("Ben", "override")]
    got = schedules.on_call(container.uow(), s.id, start + timedelta(hours=1))
    assert (got.person.name, got.source) == ("Ben", "override")
    with pytest.raises(ValidationFailed):
        schedules.add_override(container.uow(), ADMIN, s.id, crew["Ben"], start, start)


def test_gaps_are_shown(container, crew, clock):
    s = schedules.create_schedule(container.uow(), ADMIN, {
        "name": "office", "time_zone": "UTC", "layers": [
            {"rotation": "daily", "start": "2026-03-02", "members": [crew["Ann"]],
             "restrictions": [{"start": "09:00", "end": "17:00"}]}]})
    view = schedules.final_view(container.uow(), s.id, clock.now(), clock.now() + timedelta(days=1))
    assert [(v.person.name if v.person else None) for v in view] == ["Ann", None]
    assert view[1].start == datetime(2026, 3, 2, 17, tzinfo=UTC)


def test_ical_feeds_parse_as_rfc5545(container, crew, clock):
    s = weekly(container, crew)
    token = s.feed_path.split("/")[-1].removesuffix(".ics")
    cal = Calendar.from_ical(schedules.schedule_feed(container.uow(), token))
    events = cal.walk("VEVENT")
    assert cal["VERSION"] == "2.0" and cal["PRODID"]
    assert len({e["UID"] for e in events}) == len(events) > 10
    first = [e for e in events if e.decoded("DTSTART") <= clock.now() < e.decoded("DTEND")]
    assert [str(e["SUMMARY"]) for e in first] == ["On call: Cat (primary)"]
    path = schedules.person_feed_path(container.uow(), ADMIN, crew["Ben"])
    assert schedules.person_feed_path(container.uow(), ADMIN, crew["Ben"]) == path  # stable
    mine = Calendar.from_ical(schedules.person_feed(container.uow(), path.split("/")[-1][:-4]))
    assert mine.walk("VEVENT") and all(str(e["SUMMARY"]) == "On call: primary"
                                       for e in mine.walk("VEVENT"))
    with pytest.raises(NotFound):
        schedules.schedule_feed(container.uow(), "not-a-token")


def test_bad_schedules_name_the_field(container, crew):
    with pytest.raises(ValidationFailed) as err:
        schedules.create_schedule(container.uow(), ADMIN, {
            "name": "x", "time_zone": "UTC", "layers": [
                {"rotation": "daily", "start": "2026-03-02", "members": [999]}]})
    assert [e.field for e in err.value.errors] == ["layers[0].members[0]"]


def test_an_escalation_step_pages_whoever_is_on_call(container, crew, clock):
    s = weekly(container, crew)
    policy = escalation_policies.create_policy(container.uow(), ADMIN, {
        "name": "via-schedule", "steps": [{"delay_minutes": 5, "targets": [
            {"type": "schedule", "id": s.id}]}]})
    catalog.create_service(container.uow(), ADMIN, catalog.ServiceInput("payments", tier=1))
    catalog.update_service(container.uow(), ADMIN, "payments", {"escalation_policy_id": policy.id})
    clock.advance(hours=9)   # 18:00: the weekdays layer is off; Ann holds the weekly one
    inc = incidents.declare(container.uow(), ADMIN, incidents.DeclareInput(
        "Payments down", "payments", OUTAGE))
    Engine(container).run_cycle()
    assert container.notifier.take() == [("email", "ann@example.com")]
    [n] = escalation.notifications_for(container.uow(), inc.id)
    assert n.person == "Ann"

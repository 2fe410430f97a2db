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


ROSTER_YAML = """
schedules:
  - name: ic-primary
    time_zone: Europe/London
    layers:
      - name: weekly
        rotation: weekly
        handoff: 09:00            # unquoted: YAML reads 540; taken back as 09:00
        start: 2026-03-02
        members: [ann@example.com, ben@example.com]
        restrictions: [{days: [mon, tue, wed, thu, fri], start: 08:00, end: "20:00"}]
incident_roles:
  - key: incident_commander
    name: Incident Commander
    primary: {schedule: ic-primary}
    alternate: {person: cat@example.com}
    auto_assign: [P1]
escalation_policies:
  - name: via-role
    steps:
      - delay_minutes: 5
        targets: [{role: incident_commander}, {schedule: ic-primary}]
playbooks:
  - severity: P3
    checkpoints:
      - {key: triage, at_minutes: 30, role: incident_commander, title: Triage it}
"""


def test_schedules_roles_and_playbooks_are_configuration(container, crew, clock):
    from tocsin.services import config, roles

    summary = config.apply_text(container.uow(), ADMIN, ROSTER_YAML, "roster.yaml")
    assert summary["schedules"] == 1 and summary["incident_roles"] == 1
    [s] = [x for x in schedules.list_schedules(container.uow()) if x.name == "ic-primary"]
    assert s.layers[0]["handoff"] == "09:00" and s.layers[0]["members"] == [crew["Ann"],
                                                                          crew["Ben"]]
    assert schedules.on_call(container.uow(), s.id).person.name == "Ann"
    roster = {e.role.key: e for e in roles.roster(container.uow())}
    assert roster["incident_commander"].now.person.name == "Ann"
    exported = config.export_data(container.uow())
    assert exported["schedules"][0]["layers"][0]["members"] == ["ann@example.com",
                                                                 "ben@example.com"]
    ic = next(r for r in exported["incident_roles"] if r["key"] == "incident_commander")
    assert ic["primary"] == {"schedule": "ic-primary"} and ic["alternate"] == {
        "person": "cat@example.com"}
    policy = next(p for p in exported["escalation_policies"] if p["name"] == "via-role")
    assert policy["steps"][0]["targets"] == [{"role": "incident_commander"},
                                             {"schedule": "ic-primary"}]
    assert any(p["severity"] == "P3" for p in exported["playbooks"])
    # the export applies again unchanged, and the feed's secret survives a re-apply
    config.apply_text(container.uow(), ADMIN, config.export_text(container.uow()), "again")
    again = config.export_data(container.uow())
    assert again["schedules"] == exported["schedules"]
    assert again["incident_roles"] == exported["incident_roles"]
    [s2] = [x for x in schedules.list_schedules(container.uow()) if x.name == "ic-primary"]
    assert s2.feed_path == s.feed_path


@pytest.mark.parametrize("text, path, reason", [
    ("schedules:\n  - name: x\n    time_zone: Mars/Olympus\n    layers: []\n",
     "schedules[0].time_zone", "IANA time zone"),
    ("schedules:\n  - name: x\n    time_zone: UTC\n    layers:\n      - rotation: weekly\n"
     "        start: 2026-03-02\n        members: [nobody@example.com]\n",
     "schedules[0].layers[0].members[0]", "no person 'nobody@example.com'"),
    ("incident_roles:\n  - key: ic\n    name: IC\n    primary: {schedule: missing}\n",
     "incident_roles[0].primary.schedule", "no schedule 'missing'"),
    ("incident_roles:\n  - key: ic\n    name: IC\n    primary: {rota: x}\n",
     "incident_roles[0].primary", "service_oncall, {schedule: NAME} or {person: EMAIL}"),
    ("playbooks:\n  - severity: P3\n    checkpoints:\n      - {key: a, at_minutes: 0, "
     "title: A, role: nobody}\n", "playbooks[0].checkpoints[0].role", "no incident role"),
    ("playbooks:\n  - severity: P9\n    checkpoints: []\n", "playbooks[0].severity",
     "one of P1"),
])
def test_bad_roster_configuration_names_the_place(container, crew, text, path, reason):
    from tocsin.services import config

    with pytest.raises(config.ConfigInvalid) as err:
        config.apply_text(container.uow(), ADMIN, text, "bad.yaml")
    [problem] = err.value.problems
    assert problem.path == path and reason in problem.reason, problem


def test_a_schedule_is_replaced_keeping_its_feed_and_overrides(container, crew, clock):
    s = weekly(container, crew)
    schedules.add_override(container.uow(), ADMIN, s.id, crew["Cat"], clock.now(),
                           clock.now() + timedelta(hours=2))
    new = schedules.update_schedule(container.uow(), ADMIN, s.id, {
        "name": "primary", "time_zone": "UTC", "layers": [
            {"rotation": "daily", "start": "2026-03-02", "members": [crew["Ben"]]}]})
    assert new.feed_path == s.feed_path and new.time_zone == "UTC"
    assert schedules.on_call(container.uow(), s.id).person.name == "Cat"   # the override
    later = clock.now() + timedelta(hours=3)
    assert schedules.on_call(container.uow(), s.id, later).person.name == "Ben"
    with pytest.raises(ValidationFailed):
        schedules.update_schedule(container.uow(), ADMIN, s.id, {"name": "primary",
                                                                 "time_zone": "UTC",
                                                                 "layers": []})


def test_two_people_swap_shifts(container, crew, clock):
    s = schedules.create_schedule(container.uow(), ADMIN, {
        "name": "daily", "time_zone": "UTC", "layers": [
            {"rotation": "daily", "handoff": "09:00", "start": "2026-03-02",
             "members": [crew["Ann"], crew["Ben"]]}]})
    tue = datetime(2026, 3, 3, 12, tzinfo=UTC)          # Ben's day
    wed = datetime(2026, 3, 4, 12, tzinfo=UTC)          # Ann's day
    view = schedules.swap_shifts(container.uow(), ADMIN, s.id, tue, wed, "dentist")
    assert [(v.person.name, v.start.day, v.end.day) for v in view] == [("Ann", 3, 4),
                                                                        ("Ben", 4, 5)]
    assert schedules.on_call(container.uow(), s.id, tue).person.name == "Ann"
    assert schedules.on_call(container.uow(), s.id, wed).person.name == "Ben"
    with pytest.raises(ValidationFailed) as err:   # both Ann's now? Monday and Tuesday are
        schedules.swap_shifts(container.uow(), ADMIN, s.id, clock.now(), tue)
    assert "both shifts are Ann's" in err.value.errors[0].message
    with pytest.raises(ValidationFailed):
        schedules.swap_shifts(container.uow(), ADMIN, s.id, tue.replace(tzinfo=None), wed)

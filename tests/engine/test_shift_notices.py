"""On-call notices with a fake clock and a fake notifier: the incoming person hears of their
shift 15 minutes ahead, once; a gap within a day is told to the schedule's members, once."""

from __future__ import annotations

import pytest

from tocsin.domain.auth import cli_actor
from tocsin.engine.engine import Engine
from tocsin.services import escalation, people, schedules, shift_notices

ADMIN = cli_actor()


@pytest.fixture
def crew(container):
    made = [people.create_person(container.uow(), ADMIN, n, f"{n.lower()}@example.com",
                                 "America/New_York",
                                 [{"type": "email", "address": f"{n.lower()}@example.com"}])
            for n in ("Ann", "Ben")]
    return {p.name: p.id for p in made}


def sent(container):
    escalation.dispatch(container.uow, container.notifier, "http://tocsin.test")
    got = [(m.address.split("@")[0], m.subject) for m in container.notifier.sent]
    container.notifier.sent.clear()
    return sorted(got)


def test_the_incoming_person_hears_of_their_shift_once(container, crew, clock):
    # clock: Monday 2026-03-02 09:00 UTC; Ann until Tuesday 09:00 UTC, then Ben
    s = schedules.create_schedule(container.uow(), ADMIN, {
        "name": "primary", "time_zone": "UTC", "layers": [
            {"rotation": "daily", "handoff": "09:00", "start": "2026-03-02",
             "members": [crew["Ann"], crew["Ben"]]}]})
    assert shift_notices.process(container.uow()) == 0
    clock.advance(hours=23, minutes=44)               # 08:44: 16 min before the handoff
    assert shift_notices.process(container.uow()) == 0
    clock.advance(minutes=2)
    assert shift_notices.process(container.uow()) == 1
    assert sent(container) == [("ben", "You are on call for primary from Tue 03 Mar 04:00 EST")]
    clock.advance(minutes=1)
    assert shift_notices.process(container.uow()) == 0   # once
    assert sent(container) == []
    found = schedules.notices(container.uow(), s.id)
    assert [(n.person, n.purpose, n.status) for n in found] == [("Ben", "shift", "sent")]


def test_a_gap_within_a_day_is_told_to_the_members_once(container, crew, clock):
    schedules.create_schedule(container.uow(), ADMIN, {
        "name": "office", "time_zone": "UTC", "layers": [
            {"rotation": "daily", "start": "2026-03-02", "members": [crew["Ann"], crew["Ben"]],
             "restrictions": [{"start": "09:00", "end": "17:00"}]}]})
    engine = Engine(container)
    engine.run_cycle()                                    # the engine runs the notices
    got = sent(container)
    assert got == [("ann", "Nobody is on call for office from Mon 02 Mar 12:00 EST"),
                   ("ben", "Nobody is on call for office from Mon 02 Mar 12:00 EST")]
    assert shift_notices.process(container.uow()) == 0
    clock.advance(hours=7, minutes=30)                    # 16:30: nothing new within a day
    assert shift_notices.process(container.uow()) == 0
    clock.advance(hours=16, minutes=20)                   # 08:50 Tuesday: Ben takes over at
    assert shift_notices.process(container.uow()) == 3    # 09:00; Tuesday's gap is in sight
    assert sent(container) == [
        ("ann", "Nobody is on call for office from Tue 03 Mar 12:00 EST"),
        ("ben", "Nobody is on call for office from Tue 03 Mar 12:00 EST"),
        ("ben", "You are on call for office from Tue 03 Mar 04:00 EST")]


def test_a_notice_gives_the_shift_real_end(container, crew, clock):
    schedules.create_schedule(container.uow(), ADMIN, {
        "name": "weekly", "time_zone": "UTC", "layers": [
            {"rotation": "weekly", "handoff": "09:00", "start": "2026-02-23",
             "members": [crew["Ann"], crew["Ben"]]}]})
    # 2026-02-23 Ann's week, 03-02 (today) Ben's, 03-09 Ann's again: ask 15 min before that
    clock.advance(days=6, hours=23, minutes=50)
    assert shift_notices.process(container.uow()) == 1
    escalation.dispatch(container.uow, container.notifier, "http://tocsin.test")
    [m] = container.notifier.sent
    assert "until Mon 16 Mar 05:00 EDT" in m.text   # a week later, on Ann's clock

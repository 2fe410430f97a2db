"""Playbook checkpoints: parsing, planning from the declaration, and each task's timer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tocsin.domain import checkpoints as dom

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
P1 = {"severity": "P1", "name": "P1 response", "checkpoints": [
    {"key": "acknowledge", "at_minutes": 0, "role": "engineering_responder",
     "title": "Acknowledge", "deadline_minutes": 5, "remind_before_minutes": 0,
     "done_when": "acknowledged"},
    {"key": "scope", "at_minutes": 15, "role": "incident_commander", "title": "Scope",
     "deadline_minutes": 10},
    {"key": "reevaluate", "at_minutes": 60, "every_minutes": 60, "role": "incident_commander",
     "title": "Re-evaluate", "deadline_minutes": 10, "checklist": ["Still P1?"]},
]}


def test_a_playbook_plans_its_tasks_from_the_origin():
    playbook, errors = dom.parse(P1)
    assert errors == []
    planned = dom.plan(playbook, T0)
    assert [(p.key, p.starts_at - T0, p.deadline - T0) for p in planned] == [
        ("P1:acknowledge", timedelta(0), timedelta(minutes=5)),
        ("P1:scope", timedelta(minutes=15), timedelta(minutes=25)),
        ("P1:reevaluate:1", timedelta(minutes=60), timedelta(minutes=70)),
    ]
    third = dom.occurrence("P1", playbook.checkpoints[2], T0, 2)
    assert (third.key, third.starts_at - T0) == ("P1:reevaluate:3", timedelta(minutes=180))
    assert dom.parse(dom.as_dict(playbook))[0] == playbook


@pytest.mark.parametrize("change, field", [
    ({"severity": "P5"}, "severity"),
    ({"checkpoints": "x"}, "checkpoints"),
    ({"checkpoints": [{"key": "A", "at_minutes": 0, "title": "t"}]}, "checkpoints[0].key"),
    ({"checkpoints": [{"key": "a", "at_minutes": -1, "title": "t"}]}, "checkpoints[0].at_minutes"),
    ({"checkpoints": [{"key": "a", "at_minutes": 0, "title": ""}]}, "checkpoints[0].title"),
    ({"checkpoints": [{"key": "a", "at_minutes": 0, "title": "t", "every_minutes": 1}]},
     "checkpoints[0].every_minutes"),
    ({"checkpoints": [{"key": "a", "at_minutes": 0, "title": "t", "done_when": "resolved"}]},
     "checkpoints[0].done_when"),
    ({"checkpoints": [{"key": "a", "at_minutes": 0, "title": "t", "checklist": [3]}]},
     "checkpoints[0].checklist"),
    ({"checkpoints": [{"key": "a", "at_minutes": 0, "title": "t", "deadline_minutes": 10,
                       "remind_before_minutes": 20}]}, "checkpoints[0].remind_before_minutes"),
    ({"checkpoints": [{"key": "a", "at_minutes": 0, "title": "t"},
                      {"key": "a", "at_minutes": 5, "title": "u"}]}, "checkpoints"),
])
def test_bad_playbooks_name_the_field(change, field):
    playbook, errors = dom.parse({**P1, **change})
    assert playbook is None and field in [e.field for e in errors]


def test_a_task_opens_then_is_reminded_then_goes_overdue():
    start, deadline = T0, T0 + timedelta(minutes=30)
    remind = T0 + timedelta(minutes=20)
    step = dom.on_due("start", "pending", start, deadline, remind, start)
    assert (step.action, step.stage, step.next_at) == ("open", "remind", remind)
    step = dom.on_due("remind", "open", start, deadline, remind, remind)
    assert (step.action, step.stage, step.next_at) == ("remind", "due", deadline)
    step = dom.on_due("due", "open", start, deadline, remind, deadline)
    assert (step.action, step.next_at) == ("overdue", None)


def test_a_late_engine_skips_reminders_whose_moment_passed():
    start, deadline = T0, T0 + timedelta(minutes=30)
    remind = T0 + timedelta(minutes=20)
    late = T0 + timedelta(minutes=25)
    assert dom.on_due("start", "pending", start, deadline, remind, late) == dom.Step(
        "open", "due", deadline)
    assert dom.on_due("remind", "open", start, deadline, remind, deadline).action == "none"
    c = dom.parse(P1)[0].checkpoints[2]      # every 60 min, 10 to do it
    nxt = dom.next_occurrence("P1", c, T0, 0, T0 + timedelta(minutes=185))
    assert (nxt.key, nxt.starts_at) == ("P1:reevaluate:3", T0 + timedelta(minutes=180))


def test_no_reminder_when_there_is_no_room_and_nothing_once_done():
    start, deadline = T0, T0 + timedelta(minutes=5)
    c = dom.parse(P1)[0].checkpoints[0]
    assert dom.remind_time(c, start, deadline) is None
    assert dom.on_due("start", "pending", start, deadline, None, start).next_at == deadline
    for status in ("done", "cancelled"):
        assert dom.on_due("remind", status, start, deadline, None, start) == dom.Step(
            "none", "remind", None)
    assert dom.on_due("due", "done", start, deadline, None, deadline).action == "none"


def test_who_is_told_when():
    ack, scope, _ = dom.parse(P1)[0].checkpoints
    quiet = dom.Checkpoint("q", 15, "Quiet", "incident_commander", notify=False)
    assert not dom.tells_holder("open", ack, 0, False, False)        # starts with the incident
    assert dom.tells_holder("open", scope, 0, False, False)
    assert not dom.tells_holder("open", scope, 0, True, False)       # opened past its deadline
    assert dom.tells_holder("remind", scope, 0, False, True)
    assert not dom.tells_holder("overdue", ack, 0, True, True)        # the policy chases
    assert dom.tells_holder("overdue", ack, 0, True, False)
    assert not dom.tells_holder("overdue", quiet, 0, True, False)

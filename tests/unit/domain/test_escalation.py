"""Escalation policy rules: which step fires after which, and when."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tocsin.domain import escalation as esc


def policy(delays, repeat=0):
    return esc.Policy("p", repeat, tuple(esc.Step(d, (esc.Target("person", 1),)) for d in delays))


@pytest.mark.parametrize("delays, repeat, pos, expected", [
    ((5, 10), 0, (0, 0), (0, 1)),
    ((5, 10), 0, (0, 1), None),            # last step of the only round
    ((5, 10), 1, (0, 1), (1, 0)),          # the repeat round starts again at step 1
    ((5, 10), 1, (1, 1), None),
    ((5,), 2, (0, 0), (1, 0)),
    ((5,), 2, (2, 0), None),
])
def test_after(delays, repeat, pos, expected):
    got = esc.after(policy(delays, repeat), esc.Position(*pos))
    assert (None if got is None else (got.round, got.step)) == expected


def test_next_due_counts_from_the_due_time_not_from_now():
    due = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert esc.next_due(policy((5, 10)), esc.Position(0, 1), due) == datetime(
        2026, 3, 2, 9, 10, tzinfo=UTC)


def test_parse_round_trips_and_reports_every_problem():
    data = {"name": " p ", "repeat": 1, "steps": [
        {"delay_minutes": 5, "targets": [{"type": "team", "id": 3}]}]}
    parsed, errors = esc.parse(data)
    assert errors == [] and parsed.name == "p"
    assert esc.parse(parsed.as_dict())[0] == parsed
    _, errors = esc.parse({"name": "x", "repeat": True, "steps": [
        {"delay_minutes": 5.5, "targets": []}, "nope"]})
    assert [e.field for e in errors] == ["repeat", "steps[0].delay_minutes", "steps[0].targets",
                                         "steps[1]"]

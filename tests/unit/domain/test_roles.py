"""Incident roles: parsing definitions, and choosing the holder — primary, else alternate."""

from __future__ import annotations

import pytest

from tocsin.domain import roles as dom
from tocsin.domain.roles import Candidate


def test_a_role_parses_with_sources_and_severities():
    spec, errors = dom.parse({"key": "incident_commander", "name": " Incident Commander ",
                              "responsibilities": "Owns the response",
                              "primary": {"type": "schedule", "id": 3},
                              "alternate": {"type": "person", "id": 7},
                              "auto_severities": ["P2", "P1"]})
    assert errors == []
    assert spec.name == "Incident Commander"
    assert spec.primary == dom.Source("schedule", 3) and spec.alternate == dom.Source("person", 7)
    assert spec.auto_severities == ("P1", "P2")
    assert dom.parse(spec.as_dict())[0] == spec


@pytest.mark.parametrize("data, field", [
    ({"key": "Incident Commander", "name": "IC"}, "key"),
    ({"key": "ic", "name": ""}, "name"),
    ({"key": "ic", "name": "IC", "primary": {"type": "rota", "id": 1}}, "primary.type"),
    ({"key": "ic", "name": "IC", "primary": {"type": "schedule"}}, "primary.id"),
    ({"key": "ic", "name": "IC", "primary": {"type": "person", "id": True}}, "primary.id"),
    ({"key": "ic", "name": "IC", "alternate": {"type": "person", "id": 1}}, "alternate"),
    ({"key": "ic", "name": "IC", "auto_severities": ["P5"]}, "auto_severities"),
    ({"key": "ic", "name": "IC", "responsibilities": 5}, "responsibilities"),
])
def test_bad_roles_name_the_field(data, field):
    spec, errors = dom.parse(data)
    assert spec is None and field in [e.field for e in errors]


ALICE = Candidate("schedule ic", 1, "Alice")
BOB = Candidate("schedule ic-backup", 2, "Bob")


def test_the_primary_takes_the_role_when_they_can():
    choice = dom.choose("Incident Commander", ALICE, BOB)
    assert (choice.user_id, choice.alternate) == (1, False)
    assert "Alice is the primary" in choice.reason


@pytest.mark.parametrize("primary, why", [
    (Candidate("schedule ic", None), "nobody is on call (schedule ic)"),
    (Candidate("schedule ic", 1, "Alice", "has no contact method"),
     "Alice has no contact method (schedule ic)"),
    (Candidate("person alice", 1, "Alice", "is deactivated"), "Alice is deactivated"),
])
def test_the_alternate_takes_it_when_the_primary_is_off_or_unreachable(primary, why):
    choice = dom.choose("Incident Commander", primary, BOB)
    assert (choice.user_id, choice.alternate) == (2, True)
    assert why in choice.reason and "Bob is the alternate" in choice.reason


def test_nobody_when_neither_can_and_the_reason_says_so():
    gap = Candidate("schedule ic", None)
    assert dom.choose("IC", gap, None).user_id is None
    assert "no alternate" in dom.choose("IC", gap, None).reason
    both = dom.choose("IC", gap, Candidate("schedule b", 2, "Bob", "is deactivated"))
    assert both.user_id is None and "Bob is deactivated" in both.reason
    assert "no primary" in dom.choose("IC", None, None).reason
    same = dom.choose("IC", Candidate("s", 1, "Al", "has no contact method"),
                      Candidate("t", 1, "Al", "has no contact method"))
    assert same.user_id is None

"""Personal notification rules: validation with precise paths, and what a page sends."""

import pytest

from tocsin.domain.notification_rules import Planned, Rule, describe, parse, plan, urgency_of

EMAIL, SMS, VOICE = 1, 2, 3
METHODS = [EMAIL, SMS, VOICE]
TYPES = {EMAIL: "email", SMS: "sms", VOICE: "voice"}
USUAL = [{"contact_method_id": EMAIL, "delay_minutes": 0},
         {"contact_method_id": SMS, "delay_minutes": 0},
         {"contact_method_id": VOICE, "delay_minutes": 5}]


def test_the_usual_rules_parse_in_order():
    rules, errors = parse(USUAL, METHODS)
    assert errors == []
    assert rules == (Rule(EMAIL, 0), Rule(SMS, 0), Rule(VOICE, 5))


def test_no_rules_is_the_default():
    assert parse([], METHODS) == ((), [])


@pytest.mark.parametrize(("data", "field", "says"), [
    ("email", "rules", "a list"),
    ([{"contact_method_id": EMAIL}] * 21, "rules", "at most 20"),
    (["email"], "rules[0]", "an object"),
    ([{"contact_method_id": 99, "delay_minutes": 0}], "rules[0].contact_method_id", "ids: 1, 2, 3"),
    ([{"contact_method_id": "1", "delay_minutes": 0}], "rules[0].contact_method_id", "one of"),
    ([{"contact_method_id": EMAIL, "delay_minutes": -1}], "rules[0].delay_minutes", "0 to 1440"),
    ([{"contact_method_id": EMAIL, "delay_minutes": 1441}], "rules[0].delay_minutes", "0 to 1440"),
    ([{"contact_method_id": EMAIL, "delay_minutes": True}], "rules[0].delay_minutes", "0 to 1440"),
    ([{"contact_method_id": EMAIL, "delay_minutes": 0, "urgency": "urgent"}], "rules[0].urgency",
     "high (P1, P2), low (P3, P4)"),
    ([{"contact_method_id": EMAIL, "delay": 5}], "rules[0].delay", "unknown key"),
    ([{"contact_method_id": EMAIL, "delay_minutes": 0},
      {"contact_method_id": EMAIL, "delay_minutes": 0}], "rules[1]", "the same contact method"),
    ([{"contact_method_id": VOICE, "delay_minutes": 5}], "rules",
     "high-urgency incidents the first rule must be at 0 minutes"),
    ([{"contact_method_id": EMAIL, "delay_minutes": 0, "urgency": "high"},
      {"contact_method_id": SMS, "delay_minutes": 10, "urgency": "low"}], "rules",
     "low-urgency incidents the first rule must be at 0 minutes (now the first is at 10)"),
])
def test_bad_rules_name_the_field(data, field, says):
    rules, errors = parse(data, METHODS)
    assert rules is None
    assert any(e.field == field and says in e.message for e in errors), errors


def test_every_problem_is_reported_at_once():
    _, errors = parse([{"contact_method_id": 99, "delay_minutes": -3, "urgency": "x"}], METHODS)
    assert [e.field for e in errors] == ["rules[0].contact_method_id", "rules[0].delay_minutes",
                                         "rules[0].urgency"]


@pytest.mark.parametrize(("severity", "urgency"), [
    ("P1", "high"), ("P2", "high"), ("P3", "low"), ("P4", "low"), (None, "high"), ("P9", "high")])
def test_urgency(severity, urgency):
    assert urgency_of(severity) == urgency


def test_without_rules_every_method_is_paged_at_once():
    assert plan((), METHODS, "P1") == (Planned(EMAIL, 0), Planned(SMS, 0), Planned(VOICE, 0))


def test_email_and_sms_at_once_voice_after_five_minutes():
    rules, _ = parse(USUAL, METHODS)
    planned = plan(rules, METHODS, "P1")
    assert planned == (Planned(EMAIL, 0), Planned(SMS, 0), Planned(VOICE, 5))
    assert describe(planned, TYPES) == "email, sms; voice after 5 min"


def test_rules_by_urgency_and_the_default_for_an_urgency_without_rules():
    rules, errors = parse([{"contact_method_id": VOICE, "delay_minutes": 0, "urgency": "high"},
                           {"contact_method_id": EMAIL, "delay_minutes": 0},
                           {"contact_method_id": EMAIL, "delay_minutes": 30, "urgency": "high"}],
                          METHODS)
    assert errors == []
    assert plan(rules, METHODS, "P2") == (Planned(VOICE, 0), Planned(EMAIL, 0), Planned(EMAIL, 30))
    assert plan(rules, METHODS, "P4") == (Planned(EMAIL, 0),)
    only_high, _ = parse([{"contact_method_id": VOICE, "delay_minutes": 0, "urgency": "high"}],
                         METHODS)
    assert plan(only_high, METHODS, "P3") == (Planned(EMAIL, 0), Planned(SMS, 0), Planned(VOICE, 0))


def test_a_rule_whose_method_is_gone_is_skipped():
    rules = (Rule(EMAIL, 0), Rule(VOICE, 5))
    assert plan(rules, [EMAIL], "P1") == (Planned(EMAIL, 0),)
    assert plan((Rule(VOICE, 0),), [EMAIL, SMS], "P1") == (Planned(EMAIL, 0), Planned(SMS, 0))

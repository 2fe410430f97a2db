"""The default severity matrix, table-driven, and the rule language's errors."""

from pathlib import Path

import pytest
import yaml

from tocsin.domain.conditions import ConditionError
from tocsin.domain.severity import Fallback, classify, facts_for, parse_rule

DEFAULT = yaml.safe_load(
    (Path(__file__).resolve().parents[3] / "src/tocsin/config/default.yaml").read_text())
RULES = [parse_rule(r, f"severity_rules[{i}]") for i, r in enumerate(DEFAULT["severity_rules"])]
FALLBACK = Fallback(**DEFAULT["severity_fallback"])

BASE = {"workaround": False, "data_exposure": False, "compliance_exposure": False,
        "criticality": "internal", "restore_within": "hours"}


@pytest.mark.parametrize(
    ("attrs", "service", "severity", "kind", "rule"),
    [
        ({"impact": "outage", "criticality": "revenue"}, {"tier": 3}, "P1", "incident",
         "critical-service-outage"),
        ({"impact": "outage"}, {"tier": 1}, "P1", "incident", "critical-service-outage"),
        ({"impact": "cosmetic", "data_exposure": True}, {"tier": 4}, "P1", "incident",
         "data-exposure"),
        ({"impact": "degradation", "compliance_exposure": True}, {"tier": 3}, "P1", "incident",
         "regulated-degradation"),
        ({"impact": "outage"}, {"tier": 3}, "P2", "incident", "outage-no-workaround"),
        ({"impact": "degradation"}, {"tier": 2}, "P2", "incident", "outage-no-workaround"),
        ({"impact": "degradation", "workaround": True}, {"tier": 2}, "P3", "issue",
         "limited-or-workaround"),
        ({"impact": "limited"}, {"tier": 1}, "P3", "issue", "limited-or-workaround"),
        ({"impact": "cosmetic"}, {"tier": 1}, "P4", "ticket", "cosmetic"),
        ({"impact": "cosmetic", "workaround": True}, {"tier": 1}, "P4", "ticket", "cosmetic"),
    ],
)
def test_default_matrix(attrs, service, severity, kind, rule):
    facts = facts_for({**BASE, **attrs}, {"name": "svc", "tags": [], **service})
    result = classify(RULES, facts, "incident", FALLBACK)
    assert (result.severity, result.kind, result.rule) == (severity, kind, rule)
    assert rule in result.reason and result.matched


def test_no_rule_matches_uses_fallback_and_says_so():
    result = classify(RULES, {"impact": "weird"}, None, FALLBACK)
    assert result.rule is None
    assert result.severity == "P3" and "No severity rule matched" in result.reason


def test_reason_names_the_values_that_matched():
    facts = facts_for({**BASE, "impact": "outage", "criticality": "safety"}, {"tier": 3})
    reason = classify(RULES, facts, None, FALLBACK).reason
    assert "impact is outage" in reason and "criticality is safety" in reason


@pytest.mark.parametrize(
    ("spec", "path"),
    [
        ({"name": "x", "severity": "P9", "when": {"a": 1}}, "r.severity"),
        ({"name": "x", "severity": "P1"}, "r"),
        ({"name": "x", "severity": "P1", "when": {"a": {"bogus": 1}}}, "r.when.a"),
        ({"name": "x", "severity": "P1", "when": {"a": {"gte": "ten"}}}, "r.when.a"),
        ({"name": "x", "severity": "P1", "kind": "saga", "when": {"a": 1}}, "r.kind"),
        ({"severity": "P1", "when": {"a": 1}}, "r.name"),
    ],
)
def test_bad_rules_name_the_path(spec, path):
    with pytest.raises(ConditionError) as err:
        parse_rule(spec, "r")
    assert err.value.path == path


def test_numeric_operators():
    rule = parse_rule({"name": "big", "severity": "P2", "when": {"customer_count": {"gte": 100}}},
                      "r")
    assert classify([rule], {"customer_count": 100}).severity == "P2"
    low = Fallback("issue", "P4")
    assert classify([rule], {"customer_count": 99}, fallback=low).severity == "P4"
    assert classify([rule], {"customer_count": "100"}).rule is None  # strings never compare

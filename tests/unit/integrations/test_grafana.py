"""Grafana unified alerting (Grafana 12 capture) and legacy alerting (alerting/ok pair)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from tocsin.domain.alert import ParseError
from tocsin.integrations.inbound import grafana

from .invariants import check_outcome
from .payloads import payload

UNIFIED = "grafana/keep_grafana12_unified_alerting_webhook_test_notification.json"
LEGACY_ALERTING = "alerta-fixtures/grafana_legacy_alerting.json"
LEGACY_OK = "alerta-fixtures/grafana_legacy_ok.json"


def parse(body):
    outcome = grafana.parse(body, {}, {})
    check_outcome(outcome)
    return outcome


def test_unified_alerting():
    (alert,) = parse(payload(UNIFIED)).alerts
    assert (alert.source, alert.action, alert.dedup_key) == ("grafana", "trigger", "c4edaaf9f9f839b0")
    assert (alert.summary, alert.description) == ("TEST", "Test Description")
    assert alert.labels == {"alertname": "TestAlert", "grafana_folder": "Test Folder", "instance": "Grafana"}
    assert alert.annotations["value_string"] == "[ var='B' value=22 ]"
    assert alert.links == {
        "generator": "https://grafana.example.com/?orgId=1",  # relative, resolved against externalURL
        "source": "https://grafana.example.com/",
        "dashboard": "https://grafana.example.com/d/dashboard_uid",
        "panel": "https://grafana.example.com/d/dashboard_uid?viewPanel=1",
        "silence": "https://grafana.example.com/alerting/silence/new",
    }
    assert alert.starts_at == datetime(2026, 5, 5, 13, 4, 57, 622813, tzinfo=UTC)
    assert (alert.ends_at, alert.severity, alert.service) == (None, None, None)


def test_unified_resolved_keeps_the_fingerprint_and_value_string_fills_description():
    body = copy.deepcopy(payload(UNIFIED))
    entry = body["alerts"][0]
    entry.update(status="resolved", endsAt="2026-05-05T13:10:00Z", annotations={},
                 labels={**entry["labels"], "severity": "high", "service": "search"})
    (alert,) = parse(body).alerts
    assert (alert.action, alert.dedup_key) == ("resolve", "c4edaaf9f9f839b0")
    assert alert.ends_at == datetime(2026, 5, 5, 13, 10, tzinfo=UTC)
    assert (alert.severity, alert.source_severity, alert.service) == ("critical", "high", "search")
    assert alert.description == "[ var='B' value=22 ]"
    assert alert.summary == "TestAlert (service=search, instance=Grafana)"


def test_legacy_alerting():
    (alert,) = parse(payload(LEGACY_ALERTING)).alerts
    assert (alert.action, alert.dedup_key, alert.summary) == ("trigger", "rule:7", "Zeta CPU alert")
    assert alert.description == "boom!"
    assert alert.labels["alertname"] == "Zeta CPU alert"
    assert alert.labels["rule_id"] == "7"
    assert alert.labels["metric"] == "user"
    assert alert.labels["instance"] == "zeta.domain"
    assert alert.labels["info.host_id"] == "i-0d0721c7f97545d43"
    assert alert.annotations == {"eval_matches": "user=97.007606"}
    assert alert.links == {
        "dashboard": "https://grafana.domain.tld/dashboard/db/alarms?fullscreen&edit&tab=alert&panelId=1&orgId=1"}


def test_legacy_ok_resolves_the_same_alert():
    alerting = parse(payload(LEGACY_ALERTING)).alerts[0]
    (ok,) = parse(payload(LEGACY_OK)).alerts
    assert (ok.action, ok.dedup_key) == ("resolve", alerting.dedup_key)
    assert ok.labels == {"alertname": "Zeta CPU alert", "rule_id": "7"}
    assert ok.annotations == {}


@pytest.mark.parametrize(
    ("state", "action", "severity"),
    [("alerting", "trigger", None), ("no_data", "trigger", "warning"), ("ok", "resolve", None),
     ("paused", "resolve", None), ("Alerting", "trigger", None)],
)
def test_legacy_states(state, action, severity):
    body = {**payload(LEGACY_OK), "state": state}
    (alert,) = parse(body).alerts
    assert (alert.action, alert.severity) == (action, severity)


def test_legacy_pending_is_a_notice_not_an_alert():
    outcome = parse({**payload(LEGACY_OK), "state": "pending"})
    assert outcome.alerts == ()
    assert [n.kind for n in outcome.notices] == ["grafana_rule_pending"]
    assert "Zeta CPU alert" in outcome.notices[0].message


def test_legacy_tags_several_matches_and_image():
    body = {**payload(LEGACY_ALERTING), "tags": {"severity": "warning", "service": "zeta"},
            "imageUrl": "https://img.example/p.png",
            "evalMatches": [{"metric": "a", "value": 1, "tags": {"host": "x"}},
                            {"metric": "b", "value": 2.5, "tags": None}]}
    (alert,) = parse(body).alerts
    assert (alert.severity, alert.service) == ("warning", "zeta")
    assert "metric" not in alert.labels and "host" not in alert.labels  # ambiguous with several matches
    assert alert.annotations == {"eval_matches": "a=1; b=2.5"}
    assert alert.links["image"] == "https://img.example/p.png"


def test_legacy_without_rule_id_keys_on_the_rule_name():
    body = {"ruleName": "CPU", "state": "alerting"}
    assert parse(body).alerts[0].dedup_key.startswith("rule:") and parse(body).alerts[0].dedup_key != "rule:"
    other = {"ruleName": "Memory", "state": "alerting"}
    assert parse(body).alerts[0].dedup_key != parse(other).alerts[0].dedup_key


@pytest.mark.parametrize(
    ("body", "path", "reason"),
    [
        (None, "", "expected an object"),
        ("x", "", "expected an object"),
        ({}, "", "neither a unified alerting payload"),
        ({"alerts": []}, "alerts", "must not be empty"),
        ({"alerts": [{"status": "firing", "labels": {"a": "1"}, "dashboardURL": 3}]},
         "alerts[0].dashboardURL", "expected a string"),
        ({"alerts": [{"status": "firing", "labels": {"a": "1"}, "valueString": {}}]},
         "alerts[0].valueString", "expected a string"),
        ({"ruleId": 7}, "state", "is required"),
        ({"ruleId": 7, "state": "burning"}, "state", "unknown value 'burning'"),
        ({"ruleId": 7, "state": "ok", "ruleName": ["x"]}, "ruleName", "expected a string"),
        ({"ruleId": 7, "state": "ok", "evalMatches": {}}, "evalMatches", "expected an array"),
        ({"ruleId": 7, "state": "ok", "evalMatches": [1]}, "evalMatches[0]", "expected an object"),
        ({"ruleId": 7, "state": "ok", "evalMatches": [{"tags": []}]}, "evalMatches[0].tags",
         "expected an object"),
        ({"ruleId": 7, "state": "ok", "tags": "a"}, "tags", "expected an object"),
        ({"ruleId": None, "ruleName": None, "state": "ok"}, "ruleId", "needs a ruleId or a ruleName"),
        ({"ruleId": [7], "state": "ok"}, "ruleId", "expected a string"),
    ],
)
def test_malformed_bodies(body, path, reason):
    with pytest.raises(ParseError) as info:
        grafana.parse(body, {}, {})
    assert info.value.path == path
    assert reason in info.value.reason

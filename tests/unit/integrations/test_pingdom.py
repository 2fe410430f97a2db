"""Pingdom state-change webhook, from the alerta DOWN fixture and its UP counterpart."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tocsin.domain.alert import ParseError
from tocsin.integrations.inbound import pingdom

from .invariants import check_outcome
from .payloads import payload

DOWN = "alerta-fixtures/pingdom_down.json"
CHANGED = datetime(2017, 6, 30, 22, 25, 43, tzinfo=UTC)


def parse(body):
    outcome = pingdom.parse(body, {}, {})
    check_outcome(outcome)
    (alert,) = outcome.alerts
    return alert


def test_down():
    alert = parse(payload(DOWN))
    assert (alert.source, alert.action, alert.dedup_key) == ("pingdom", "trigger", "check:803318")
    assert alert.summary == "Alerta API on OpenShift is DOWN: HTTP Error 503"
    assert alert.description == "HTTP Server Error 503 Service Unavailable"
    assert (alert.severity, alert.source_severity) == ("critical", "HIGH")
    assert alert.labels == {"alertname": "Alerta API on OpenShift", "check_id": "803318",
                            "check_type": "HTTP", "hostname": "api.alerta.io", "url": "http://api.alerta.io/"}
    assert alert.links == {"target": "http://api.alerta.io/"}
    assert (alert.starts_at, alert.ends_at) == (CHANGED, None)


def test_up_resolves_the_same_check():
    body = {**payload(DOWN), "current_state": "UP", "previous_state": "DOWN", "description": "",
            "importance_level": "LOW", "tags": ["web", {"name": "prod"}]}
    alert = parse(body)
    assert (alert.action, alert.dedup_key) == ("resolve", "check:803318")
    assert alert.summary == "Alerta API on OpenShift is UP"
    assert (alert.severity, alert.labels["tags"]) == ("warning", "web,prod")
    assert (alert.starts_at, alert.ends_at) == (None, CHANGED)


@pytest.mark.parametrize(
    ("state", "action"), [("FAILING", "trigger"), ("SUCCESS", "resolve"), ("down", "trigger")]
)
def test_transaction_check_states(state, action):
    assert parse({**payload(DOWN), "current_state": state}).action == action


def test_naive_utc_time_is_the_fallback():
    body = {**payload(DOWN)}
    del body["state_changed_timestamp"]
    assert parse(body).starts_at == CHANGED


@pytest.mark.parametrize(
    ("body", "path", "reason"),
    [
        (None, "", "expected an object"),
        ([], "", "expected an object"),
        ({}, "check_id", "is required"),
        ({"check_id": 1}, "current_state", "is required"),
        ({"check_id": 1, "current_state": "UNKNOWN"}, "current_state", "unknown value 'UNKNOWN'"),
        ({"check_id": [1], "current_state": "UP"}, "check_id", "expected a string"),
        ({"check_id": 1, "current_state": "UP", "check_params": "x"}, "check_params", "expected an object"),
        ({"check_id": 1, "current_state": "UP", "tags": "a,b"}, "tags", "expected an array"),
        ({"check_id": 1, "current_state": "UP", "state_changed_timestamp": "x"}, "state_changed_timestamp",
         "expected epoch seconds"),
        ({"check_id": 1, "current_state": "UP", "state_changed_utc_time": "noon"}, "state_changed_utc_time",
         "ISO 8601"),
        ({"check_id": 1, "current_state": "UP", "check_name": 5}, "check_name", "expected a string"),
    ],
)
def test_malformed_bodies(body, path, reason):
    with pytest.raises(ParseError) as info:
        pingdom.parse(body, {}, {})
    assert info.value.path == path
    assert reason in info.value.reason

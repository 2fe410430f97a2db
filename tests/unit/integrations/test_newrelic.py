"""New Relic incident webhook, from the alerta fixture."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tocsin.domain.alert import ParseError
from tocsin.integrations.inbound import newrelic

from .invariants import check_outcome
from .payloads import payload

INCIDENT = "alerta-fixtures/newrelic_incident_webhook.json"


def parse(body):
    outcome = newrelic.parse(body, {}, {})
    check_outcome(outcome)
    (alert,) = outcome.alerts
    return alert


def test_open_incident():
    alert = parse(payload(INCIDENT))
    assert (alert.source, alert.action, alert.dedup_key) == ("newrelic", "trigger", "0")
    assert alert.summary == "I am a test Violation"
    assert (alert.severity, alert.source_severity) == ("info", "INFO")
    assert alert.description == ("Policy: New Relic Alert - Test Policy\n"
                                 "Condition: New Relic Alert - Test Condition")
    assert alert.labels == {
        "alertname": "New Relic Alert - Test Condition", "condition": "New Relic Alert - Test Condition",
        "policy": "New Relic Alert - Test Policy", "condition_id": "0", "account": "Myaccount (Staging)",
        "account_id": "11111", "event_type": "INCIDENT", "target_type": "Application", "product": "TESTING",
    }
    assert alert.links == {
        "source": "https://alerts.newrelic.com/accounts/11111/incidents/0",
        "runbook": "http://localhost/runbook/url",
        "image": "http://localhost/sample/violation/charturl/12345",
        "policy": "https://alerts.newrelic.com/accounts/11111/policies/0",
        "acknowledge": "https://alerts.newrelic.com/accounts/11111/incidents/0/acknowledge",
    }
    assert alert.service is None  # the Application target has no name
    assert (alert.starts_at, alert.ends_at) == (datetime(2020, 9, 25, 11, 23, 27, 849000, tzinfo=UTC), None)


@pytest.mark.parametrize(
    ("state", "action"), [("open", "trigger"), ("acknowledged", "acknowledge"), ("closed", "resolve")]
)
def test_states_share_the_incident_key(state, action):
    alert = parse({**payload(INCIDENT), "current_state": state, "incident_id": 1234})
    assert (alert.action, alert.dedup_key) == (action, "1234")


def test_closed_sets_ends_at_and_application_target_names_the_service():
    body = {**payload(INCIDENT), "current_state": "closed", "severity": "CRITICAL",
            "targets": [{"name": "checkout-api", "type": "Application", "labels": {"env": "prod"}}]}
    alert = parse(body)
    assert (alert.starts_at, alert.ends_at) == (None, datetime(2020, 9, 25, 11, 23, 27, 849000, tzinfo=UTC))
    assert (alert.service, alert.severity) == ("checkout-api", "critical")
    assert (alert.labels["target"], alert.labels["env"]) == ("checkout-api", "prod")
    assert alert.description.endswith("Targets: checkout-api")


def test_summary_falls_back_to_the_condition():
    assert parse({**payload(INCIDENT), "details": ""}).summary == "New Relic Alert - Test Condition"


@pytest.mark.parametrize(
    ("body", "path", "reason"),
    [
        (None, "", "expected an object"),
        ([], "", "expected an object"),
        ({}, "current_state", "is required"),
        ({"current_state": "burning", "incident_id": 1}, "current_state", "unknown value 'burning'"),
        ({"current_state": "open"}, "incident_id", "is required"),
        ({"current_state": "open", "incident_id": 1.5}, "incident_id", "expected a string"),
        ({"current_state": "open", "incident_id": 1, "severity": 1}, "severity", "expected a string"),
        ({"current_state": "open", "incident_id": 1, "targets": {}}, "targets", "expected an array"),
        ({"current_state": "open", "incident_id": 1, "targets": ["x"]}, "targets[0]", "expected an object"),
        ({"current_state": "open", "incident_id": 1, "targets": [{"labels": "x"}]}, "targets[0].labels",
         "expected an object"),
        ({"current_state": "open", "incident_id": 1, "timestamp": "yesterday"}, "timestamp",
         "expected epoch milliseconds"),
        ({"current_state": "open", "incident_id": 1, "incident_url": ["u"]}, "incident_url",
         "expected a string"),
    ],
)
def test_malformed_bodies(body, path, reason):
    with pytest.raises(ParseError) as info:
        newrelic.parse(body, {}, {})
    assert info.value.path == path
    assert reason in info.value.reason

"""Google Cloud Monitoring incident webhook: the open/closed pair from the alerta fixtures."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from tocsin.domain.alert import ParseError
from tocsin.integrations.inbound import gcp

from .invariants import check_outcome
from .payloads import payload

OPEN = "alerta-fixtures/gcp_stackdriver_incident_open.json"
CLOSED = "alerta-fixtures/gcp_stackdriver_incident_closed.json"


def parse(body):
    outcome = gcp.parse(body, {}, {})
    check_outcome(outcome)
    (alert,) = outcome.alerts
    return alert


def test_open_incident():
    alert = parse(payload(OPEN))
    assert (alert.source, alert.action) == ("gcp", "trigger")
    assert alert.dedup_key == "f2e08c333dc64cb09f75eaab355393bz"
    assert alert.summary == "CPU (agent) for webserver-85 is above the threshold of 1% with a value of 28.5%"
    assert alert.description.startswith('{"summary": "CPU utilization for alerta-webserver-85 is over 95%"')
    assert alert.labels == {"alertname": "Webserver Health", "policy": "Webserver Health",
                            "condition": "CPU usage", "resource_id": "i-4a266a2d",
                            "resource_name": "webserver-85"}
    assert alert.links == {"source": "https://app.stackdriver.com/incidents/f2e08c333dc64cb09f75eaab355393bz"}
    assert (alert.starts_at, alert.ends_at) == (datetime(2017, 7, 6, 19, 10, 14, tzinfo=UTC), None)
    assert (alert.severity, alert.service) == (None, None)


def test_closed_resolves_the_open_incident():
    opened, closed = parse(payload(OPEN)), parse(payload(CLOSED))
    assert (closed.action, closed.dedup_key) == ("resolve", opened.dedup_key)
    assert closed.ends_at == datetime(2017, 7, 6, 19, 20, 36, tzinfo=UTC)
    assert closed.description == "This is a markdown text example"


def test_version_1_2_fields():
    body = copy.deepcopy(payload(OPEN))
    body["version"] = "1.2"
    body["incident"].update(
        severity="Critical", scoping_project_id="shop-prod",
        resource={"type": "gce_instance", "labels": {"instance_id": "123", "zone": "europe-west1-b"}},
        metric={"type": "compute.googleapis.com/instance/cpu/utilization", "displayName": "CPU"},
        policy_user_labels={"service": "checkout", "team": "payments"}, summary="",
    )
    alert = parse(body)
    assert (alert.severity, alert.source_severity, alert.service) == ("critical", "Critical", "checkout")
    assert alert.summary == "CPU usage"  # empty summary: the condition name
    assert alert.labels["resource_type"] == "gce_instance"
    assert alert.labels["zone"] == "europe-west1-b"
    assert alert.labels["metric"] == "compute.googleapis.com/instance/cpu/utilization"
    assert (alert.labels["project_id"], alert.labels["team"]) == ("shop-prod", "payments")


@pytest.mark.parametrize(
    ("incident", "path", "reason"),
    [
        (None, "incident", "expected an object, got null"),
        ("x", "incident", "expected an object"),
        ({"state": "open"}, "incident.incident_id", "is required"),
        ({"incident_id": "i"}, "incident.state", "is required"),
        ({"incident_id": "i", "state": "acked"}, "incident.state", "unknown value 'acked'"),
        ({"incident_id": "i", "state": "open", "started_at": "2017"}, "incident.started_at",
         "expected epoch"),
        ({"incident_id": "i", "state": "open", "documentation": "d"}, "incident.documentation",
         "expected an object"),
        ({"incident_id": "i", "state": "open", "resource": {"labels": []}}, "incident.resource.labels",
         "expected an object"),
        ({"incident_id": "i", "state": "open", "url": 5}, "incident.url", "expected a string"),
        ({"incident_id": {}, "state": "open"}, "incident.incident_id", "expected a string"),
    ],
)
def test_malformed_incidents(incident, path, reason):
    with pytest.raises(ParseError) as info:
        gcp.parse({"incident": incident, "version": "1.2"}, {}, {})
    assert info.value.path == path
    assert reason in info.value.reason


@pytest.mark.parametrize("body", [None, [], "incident", 3])
def test_non_object_bodies(body):
    with pytest.raises(ParseError, match="expected an object") as info:
        gcp.parse(body, {}, {})
    assert info.value.path == ""

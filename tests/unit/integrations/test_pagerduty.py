"""PagerDuty Events API v2, from Alertmanager's real PagerDuty requests and built events."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tocsin.domain.alert import ParseError
from tocsin.integrations.inbound import pagerduty

from .invariants import check_outcome
from .payloads import payload

TRIGGER = "alertmanager-0.25.0/03_pagerduty_events_v2_trigger.json"
RESOLVE = "alertmanager-0.25.0/07_pagerduty_events_v2_resolve.json"
KEY = "97510b418c30a6bc221ab8cd7f4d49d287215a8f33fc7173ad6f03934114edfb"


def parse(body):
    outcome = pagerduty.parse(body, {}, {})
    check_outcome(outcome, empty_key_ok=True)
    (alert,) = outcome.alerts
    return alert


def event(action="trigger", **payload_fields):
    body = {"routing_key": "R" * 32, "event_action": action,
            "payload": {"summary": "Disk full on db1", "source": "db1", "severity": "warning"}}
    body["payload"].update(payload_fields)
    return body


def test_trigger_from_alertmanager():
    alert = parse(payload(TRIGGER))
    assert (alert.source, alert.action, alert.dedup_key) == ("pagerduty", "trigger", KEY)
    assert alert.summary == "[FIRING:2] HighErrorRate checkout (checkout critical)"
    assert (alert.severity, alert.source_severity) == ("error", "error")
    assert alert.labels == {"source": "Alertmanager", "client": "Alertmanager"}
    assert alert.annotations["num_firing"] == "2"
    assert alert.annotations["firing"].startswith("Labels:\n - alertname = HighErrorRate")
    assert alert.links == {"source": "http://vm:19093/#/alerts?receiver=all"}
    assert alert.service is None


def test_resolve_pairs_with_trigger():
    trigger, resolve = parse(payload(TRIGGER)), parse(payload(RESOLVE))
    assert (resolve.action, resolve.dedup_key) == ("resolve", trigger.dedup_key)
    assert resolve.summary == "[RESOLVED] HighErrorRate checkout (checkout critical)"
    assert resolve.annotations["num_resolved"] == "2"


def test_trigger_without_dedup_key_leaves_it_empty_for_the_caller():
    assert parse(event()).dedup_key == ""


def test_full_trigger_fields():
    body = event(timestamp="2026-03-02T09:00:00.000+01:00", component="postgres", group="prod-db",
                 **{"class": "disk", "custom_details": {"free": 0, "mount": "/var", "extra": {"a": 1}}})
    body.update(dedup_key="disk/db1", client="Nagios", client_url="https://nagios.example/db1",
                links=[{"href": "https://runbooks.example/disk", "text": "runbook"}, {"href": "https://x.example/"}],
                images=[{"src": "https://img.example/a.png", "href": "https://img.example/"},
                        {"src": "https://img.example/b.png"}])
    alert = parse(body)
    assert alert.dedup_key == "disk/db1"
    assert alert.labels == {"source": "db1", "component": "postgres", "group": "prod-db", "class": "disk",
                            "client": "Nagios"}
    assert alert.annotations == {"free": "0", "mount": "/var", "extra": '{"a":1}'}
    assert alert.links == {"runbook": "https://runbooks.example/disk", "link_2": "https://x.example/",
                           "image": "https://img.example/a.png", "image_2": "https://img.example/b.png",
                           "source": "https://nagios.example/db1"}
    assert alert.starts_at == datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    assert (alert.severity, alert.summary) == ("warning", "Disk full on db1")


def test_string_custom_details_become_the_description():
    assert parse(event(custom_details="free space: 0 bytes")).description == "free space: 0 bytes"


@pytest.mark.parametrize("action", ["acknowledge", "resolve"])
def test_acknowledge_and_resolve_need_only_a_dedup_key(action):
    alert = parse({"routing_key": "r", "event_action": action, "dedup_key": "disk/db1"})
    assert (alert.action, alert.dedup_key) == (action, "disk/db1")
    assert alert.summary == f"PagerDuty {action} for disk/db1"
    assert alert.severity is None


def test_legacy_v1_outgoing_webhook_is_not_an_events_api_body():
    with pytest.raises(ParseError) as info:
        pagerduty.parse(payload("alerta-fixtures/pagerduty_v1_webhook_messages_legacy.json"), {}, {})
    assert (info.value.path, info.value.reason) == ("routing_key", "is required")


@pytest.mark.parametrize(
    ("body", "path", "reason"),
    [
        (None, "", "expected an object"),
        ([], "", "expected an object"),
        ({}, "routing_key", "is required"),
        ({"routing_key": 5, "event_action": "trigger"}, "routing_key", "expected a string"),
        ({"routing_key": "r"}, "event_action", "is required"),
        ({"routing_key": "r", "event_action": "fire"}, "event_action", "unknown value 'fire'"),
        ({"routing_key": "r", "event_action": "trigger"}, "payload", "expected an object, got null"),
        ({"routing_key": "r", "event_action": "trigger", "payload": []}, "payload", "expected an object"),
        ({**event(), "payload": {"source": "s", "severity": "info"}}, "payload.summary", "is required"),
        ({**event(), "payload": {"summary": "s", "severity": "info"}}, "payload.source", "is required"),
        ({**event(), "payload": {"summary": "s", "source": "s"}}, "payload.severity", "is required"),
        (event(severity="high"), "payload.severity", "unknown value 'high'"),
        (event(timestamp="now"), "payload.timestamp", "not an ISO 8601 timestamp"),
        ({"routing_key": "r", "event_action": "resolve"}, "dedup_key", "required for event_action resolve"),
        ({"routing_key": "r", "event_action": "acknowledge", "dedup_key": "  "}, "dedup_key", "required"),
        ({**event(), "dedup_key": 7}, "dedup_key", "expected a string"),
        ({**event(), "links": {"href": "x"}}, "links", "expected an array"),
        ({**event(), "links": ["https://x"]}, "links[0]", "expected an object"),
        ({**event(), "links": [{"text": "no href"}]}, "links[0].href", "is required"),
        ({**event(), "images": [{"href": "https://x"}]}, "images[0].src", "is required"),
    ],
)
def test_malformed_events(body, path, reason):
    with pytest.raises(ParseError) as info:
        pagerduty.parse(body, {}, {})
    assert info.value.path == path
    assert reason in info.value.reason

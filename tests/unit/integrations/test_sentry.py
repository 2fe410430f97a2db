"""Sentry issue and metric alert webhooks, built in the shape of Sentry's public documentation."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from tocsin.domain.alert import ParseError
from tocsin.integrations.inbound import sentry

from .invariants import check_outcome

# Trimmed from the documented issue alert payload (integration platform, event_alert).
ISSUE_ALERT = {
    "action": "triggered",
    "actor": {"id": "sentry", "name": "Sentry", "type": "application"},
    "data": {
        "event": {
            "culprit": "?(<anonymous>)",
            "datetime": "2019-08-19T21:06:17.677000Z",
            "event_id": "e4874d664c3540c1a32eab185f12c5ab",
            "issue_id": "1117540176",
            "issue_url": "https://sentry.io/api/0/issues/1117540176/",
            "level": "error",
            "platform": "javascript",
            "project": 1,
            "tags": [["browser", "Chrome 75.0.3770"], ["environment", "production"], ["level", "error"],
                     ["url", "https://null.jsbin.com/runner"]],
            "timestamp": 1566248777.677,
            "title": "ReferenceError: heck is not defined",
            "web_url": "https://sentry.io/organizations/test-org/issues/1117540176/events/e4874d664c3540c1a32eab185f12c5ab/",
        },
        "triggered_rule": "Very Important Alert Rule!",
    },
    "installation": {"uuid": "a8e5d37a-696c-4c54-adb5-b3f28d64c7de"},
}

# Trimmed from the documented metric alert payload (metric_alert).
METRIC_ALERT = {
    "action": "critical",
    "data": {
        "description_text": "1000 events in the last 10 minutes\nFilter: level:error",
        "description_title": "Critical: Too many errors",
        "metric_alert": {
            "alert_rule": {"aggregate": "count()", "dataset": "events", "environment": None, "id": "7",
                           "name": "Too many errors", "projects": ["bar"], "query": "level:error"},
            "date_closed": None,
            "date_detected": "2020-09-13T12:26:40.000000Z",
            "date_started": "2020-09-13T12:26:40.000000Z",
            "id": "4",
            "identifier": "1",
            "projects": ["bar"],
            "status": 2,
            "title": "Sacred Marmot",
        },
        "web_url": "https://sentry.io/organizations/baz/alerts/1/",
    },
}

EVENT = {"sentry-hook-resource": "event_alert"}
METRIC = {"sentry-hook-resource": "metric_alert"}


def parse(body, headers):
    outcome = sentry.parse(body, headers, {})
    check_outcome(outcome)
    (alert,) = outcome.alerts
    return alert


def metric(action, **data):
    body = copy.deepcopy(METRIC_ALERT)
    body["action"] = action
    body["data"].update(data)
    return body


@pytest.mark.parametrize("headers", [EVENT, {}])
def test_issue_alert(headers):
    alert = parse(ISSUE_ALERT, headers)
    assert (alert.source, alert.action, alert.dedup_key) == ("sentry", "trigger", "issue:1117540176")
    assert alert.summary == "ReferenceError: heck is not defined"
    assert (alert.severity, alert.source_severity) == ("error", "error")
    assert alert.description == "Culprit: ?(<anonymous>)"
    assert alert.labels == {"browser": "Chrome 75.0.3770", "environment": "production", "level": "error",
                            "url": "https://null.jsbin.com/runner", "alertname": "Very Important Alert Rule!",
                            "project": "1", "platform": "javascript", "issue_id": "1117540176"}
    assert alert.links == {"source": ISSUE_ALERT["data"]["event"]["web_url"]}
    assert alert.starts_at == datetime(2019, 8, 19, 21, 6, 17, 677000, tzinfo=UTC)


def test_issue_alert_fallbacks():
    body = copy.deepcopy(ISSUE_ALERT)
    event = body["data"]["event"]
    del event["title"], event["datetime"]
    event.update(level="fatal", issue_id=42, tags=[{"key": "service", "value": "checkout"}])
    alert = parse(body, EVENT)
    assert (alert.dedup_key, alert.summary) == ("issue:42", "?(<anonymous>)")
    assert (alert.severity, alert.service) == ("critical", "checkout")
    assert alert.starts_at == datetime(2019, 8, 19, 21, 6, 17, 677000, tzinfo=UTC)  # from the epoch timestamp


@pytest.mark.parametrize(
    ("action", "tocsin_action", "severity"),
    [("critical", "trigger", "critical"), ("warning", "trigger", "warning"), ("resolved", "resolve", None)],
)
def test_metric_alert_actions_share_one_key(action, tocsin_action, severity):
    alert = parse(metric(action), METRIC)
    assert (alert.action, alert.severity, alert.dedup_key) == (tocsin_action, severity, "metric_alert:4")


def test_metric_alert_fields():
    alert = parse(metric("critical"), {})  # shape alone says metric alert
    assert alert.summary == "Critical: Too many errors"
    assert alert.description == "1000 events in the last 10 minutes\nFilter: level:error"
    assert alert.labels == {"alertname": "Too many errors", "aggregate": "count()", "dataset": "events",
                            "query": "level:error", "alert_rule_id": "7", "project": "bar"}
    assert alert.links == {"source": "https://sentry.io/organizations/baz/alerts/1/"}
    assert alert.starts_at == datetime(2020, 9, 13, 12, 26, 40, tzinfo=UTC)
    assert alert.ends_at is None


def test_metric_alert_summary_falls_back_to_the_rule_name():
    assert parse(metric("warning", description_title=None), METRIC).summary == "Too many errors"


def test_installation_hook_is_a_notice():
    outcome = sentry.parse({"action": "created", "data": {}}, {"sentry-hook-resource": "installation"}, {})
    assert outcome.alerts == ()
    assert [n.kind for n in outcome.notices] == ["sentry_installation"]


@pytest.mark.parametrize(
    ("body", "headers", "path", "reason"),
    [
        (None, {}, "", "expected an object"),
        ("x", EVENT, "", "expected an object"),
        ({}, {}, "data", "expected an object, got null"),
        ({"action": "triggered", "data": []}, {}, "data", "expected an object"),
        (ISSUE_ALERT, {"sentry-hook-resource": "issue"}, "", "unsupported hook resource 'issue'"),
        ({**ISSUE_ALERT, "action": "resolved"}, EVENT, "action", "unknown value 'resolved'"),
        ({"action": "triggered", "data": {}}, EVENT, "data.event", "expected an object, got null"),
        ({"action": "triggered", "data": {"event": {"title": "t"}}}, EVENT, "data.event.issue_id",
         "is required"),
        ({"action": "triggered", "data": {"event": {"issue_id": "1", "tags": [["only-key"]]}}}, EVENT,
         "data.event.tags[0]", "expected a [key, value] pair"),
        ({"action": "triggered", "data": {"event": {"issue_id": "1", "tags": "a"}}}, EVENT,
         "data.event.tags", "expected an array"),
        ({"action": "triggered", "data": {"event": {"issue_id": "1", "level": 3}}}, EVENT,
         "data.event.level", "expected a string"),
        ({"action": "triggered", "data": {"event": {"issue_id": "1", "datetime": "x"}}}, EVENT,
         "data.event.datetime", "ISO 8601"),
        (metric("firing"), METRIC, "action", "unknown value 'firing'"),
        ({"action": "critical", "data": {}}, METRIC, "data.metric_alert", "expected an object, got null"),
        (metric("critical", metric_alert={"title": "t"}), METRIC, "data.metric_alert.id", "is required"),
        (metric("critical", metric_alert={"id": "4", "alert_rule": "r"}), METRIC,
         "data.metric_alert.alert_rule", "expected an object"),
        (metric("critical", web_url=5), METRIC, "data.web_url", "expected a string"),
    ],
)
def test_malformed_hooks(body, headers, path, reason):
    with pytest.raises(ParseError) as info:
        sentry.parse(body, headers, {})
    assert info.value.path == path
    assert reason in info.value.reason

"""The parser registry, and garbage fed to every parser: only ParseError may come out."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest

from tocsin.domain.alert import ParseError
from tocsin.integrations.inbound import DESCRIPTIONS, OPTION_VALIDATORS, PARSERS

from .invariants import check_outcome
from .payloads import payload

TYPES = ["alertmanager", "pagerduty", "grafana", "cloudwatch", "azure", "sentry", "newrelic", "gcp",
         "pingdom", "generic"]
GENERIC_OPTIONS = {"alerts_path": "alerts", "title": "{labels.alertname} {status}",
                   "dedup_key": "fingerprint", "severity": "labels.severity", "status": "status",
                   "labels": {"job": "labels.job"}, "links": {"generator": "generatorURL"}}

# (type, fixture) pairs: every real payload with the parser that owns it.
FIXTURES = [
    ("alertmanager", "alertmanager-0.25.0/01_webhook_v4_firing.json"),
    ("alertmanager", "alertmanager-0.25.0/06_webhook_v4_resolved.json"),
    ("alertmanager", "alerta-fixtures/alertmanager_webhook_v3_legacy.json"),
    ("alertmanager", "alerta-fixtures/alertmanager_webhook_v4.json"),
    ("pagerduty", "alertmanager-0.25.0/03_pagerduty_events_v2_trigger.json"),
    ("pagerduty", "alertmanager-0.25.0/07_pagerduty_events_v2_resolve.json"),
    ("grafana", "grafana/keep_grafana12_unified_alerting_webhook_test_notification.json"),
    ("grafana", "alerta-fixtures/grafana_legacy_alerting.json"),
    ("grafana", "alerta-fixtures/grafana_legacy_ok.json"),
    ("cloudwatch", "aws-cloudwatch-sns/alerta_sns_notification_cloudwatch_alarm.json"),
    ("cloudwatch", "aws-cloudwatch-sns/alerta_sns_notification_cloudwatch_insufficient_data.json"),
    ("cloudwatch", "aws-cloudwatch-sns/alerta_sns_subscription_confirmation.json"),
    ("cloudwatch", "aws-cloudwatch-sns/aws-lambda-go_cloudwatch-alarm-sns-payload-multiple-metrics.json"),
    ("cloudwatch", "aws-cloudwatch-sns/aws-lambda-go_cloudwatch-alarm-sns-payload-single-metric.json"),
    ("azure", "azure-monitor/azure_common_alert_schema_metric_alert_resolved.json"),
    ("newrelic", "alerta-fixtures/newrelic_incident_webhook.json"),
    ("gcp", "alerta-fixtures/gcp_stackdriver_incident_open.json"),
    ("gcp", "alerta-fixtures/gcp_stackdriver_incident_closed.json"),
    ("pingdom", "alerta-fixtures/pingdom_down.json"),
    ("generic", "alertmanager-0.25.0/01_webhook_v4_firing.json"),
]
GARBAGE = [None, [], {}, "", "x", 0, -1, 1e300, True, [None], [[]], {"": None}, "0001-01-01T00:00:00Z",
           "9999-99-99", "\u0000\n\ud800", "https://[::1", "x" * 5000, [{"a": [{"b": None}]}]]


def options_for(kind: str) -> dict[str, Any]:
    return GENERIC_OPTIONS if kind == "generic" else {}


def run(kind: str, body: Any, headers: dict[str, str] | None = None) -> None:
    """Parse; a result must keep the limits, a failure must be a deliberate ParseError."""
    try:
        outcome = PARSERS[kind](body, headers or {}, options_for(kind))
    except ParseError as exc:
        assert not exc.reason.startswith("internal parser error"), (kind, exc)
        assert isinstance(exc.path, str)
        return
    check_outcome(outcome, empty_key_ok=kind == "pagerduty")


def mutations(value: Any) -> Iterator[Any]:
    """Copies of `value` with one member or element replaced by garbage, or removed."""
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            inner = json.loads(value)
        except ValueError:
            inner = None
        if isinstance(inner, dict):  # JSON inside a string (SNS Message): mutate inside too
            yield from (json.dumps(m) for m in mutations(inner))
    if isinstance(value, dict | list):
        children = list(value.items() if isinstance(value, dict) else enumerate(value))
    else:
        children = []
    for key, child in children:
        for replacement in [*GARBAGE, *mutations(child)]:
            changed = copy.copy(value)
            changed[key] = replacement
            yield changed
        if isinstance(value, dict):
            yield {k: v for k, v in value.items() if k != key}


def test_registry_lists_every_type_with_a_one_line_description():
    assert list(PARSERS) == TYPES
    assert list(DESCRIPTIONS) == TYPES
    for kind, text in DESCRIPTIONS.items():
        assert text and "\n" not in text and len(text) <= 110, kind
        assert callable(PARSERS[kind])


def test_option_validators():
    assert set(OPTION_VALIDATORS) == {"generic"}
    assert OPTION_VALIDATORS["generic"](GENERIC_OPTIONS) == []
    assert OPTION_VALIDATORS["generic"]({}) == [("title", "is required")]


@pytest.mark.parametrize(("kind", "name"), FIXTURES)
def test_every_fixture_parses_within_limits(kind, name):
    outcome = PARSERS[kind](payload(name), {}, options_for(kind))
    check_outcome(outcome, empty_key_ok=kind == "pagerduty")
    assert outcome.alerts or outcome.notices


@pytest.mark.parametrize("kind", TYPES)
@pytest.mark.parametrize("body", [*GARBAGE, {"alerts": [None]}, {"data": {"essentials": []}},
                                  {"Records": [1]}])
def test_garbage_bodies_raise_parse_error(kind, body):
    with pytest.raises(ParseError) as info:
        PARSERS[kind](body, {}, options_for(kind))
    assert not info.value.reason.startswith("internal parser error")


@pytest.mark.parametrize(("kind", "name"), FIXTURES)
def test_every_single_field_mutation_is_handled(kind, name):
    count = 0
    for body in mutations(payload(name)):
        run(kind, body)
        count += 1
    assert count > 50  # the mutator did reach into the payload


@pytest.mark.parametrize("kind", TYPES)
@pytest.mark.parametrize("headers", [{"sentry-hook-resource": "metric_alert"}, {"sentry-hook-resource": ""}])
def test_headers_do_not_break_other_parsers(kind, headers):
    run(kind, {"action": "critical", "data": {"metric_alert": {"id": 1}}}, headers)

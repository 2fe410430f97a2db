"""Azure Monitor common alert schema, from Microsoft's metric alert sample."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from tocsin.domain.alert import ParseError
from tocsin.integrations.inbound import azure

from .invariants import check_outcome
from .payloads import payload

RESOLVED = "azure-monitor/azure_common_alert_schema_metric_alert_resolved.json"
ALERT_ID = ("/subscriptions/<subscription ID>/providers/Microsoft.AlertsManagement/alerts/"
            "b9569717-bc32-442f-add5-83a997729330")


def parse(body):
    outcome = azure.parse(body, {}, {})
    check_outcome(outcome)
    (alert,) = outcome.alerts
    return alert


def fired(**essentials):
    body = copy.deepcopy(payload(RESOLVED))
    body["data"]["essentials"].update({"monitorCondition": "Fired", "resolvedDateTime": None, **essentials})
    return body


def test_resolved_metric_alert():
    alert = parse(payload(RESOLVED))
    assert (alert.source, alert.action, alert.dedup_key) == ("azure", "resolve", ALERT_ID)
    assert alert.summary == "WCUS-R2-Gen2 on wcus-r2-gen2"
    assert (alert.severity, alert.source_severity) == ("info", "Sev3")
    assert alert.description == "Percentage CPU GreaterThan 25 (value 7.727)"
    assert alert.labels == {
        "alertname": "WCUS-R2-Gen2", "signal_type": "Metric", "monitoring_service": "Platform",
        "resource": "wcus-r2-gen2",
        "resource_id": "/subscriptions/<subscription ID>/resourcegroups/pipelinealertrg/providers/"
                       "microsoft.compute/virtualmachines/wcus-r2-gen2",
        "subscription_id": "<subscription ID>", "resource_group": "pipelinealertrg",
        "metric": "Percentage CPU", "metric_namespace": "Microsoft.Compute/virtualMachines",
    }
    assert alert.starts_at == datetime(2019, 3, 22, 13, 58, 24, 371321, tzinfo=UTC)
    assert alert.ends_at == datetime(2019, 3, 22, 14, 3, 16, 224631, tzinfo=UTC)
    assert alert.service is None


def test_fired_shares_the_key_of_resolved():
    alert = parse(fired())
    assert (alert.action, alert.dedup_key, alert.ends_at) == ("trigger", ALERT_ID, None)


@pytest.mark.parametrize(
    ("word", "severity"),
    [("Sev0", "critical"), ("Sev1", "error"), ("Sev2", "warning"), ("Sev3", "info"), ("Sev4", "info"),
     ("Sev9", None), (None, None)],
)
def test_severities(word, severity):
    alert = parse(fired(severity=word))
    assert (alert.severity, alert.source_severity) == (severity, word)


def test_custom_properties_description_and_links():
    body = fired(description="CPU too high", investigationLink="https://portal.azure.com/#view/alert/1",
                 configurationItems=[])
    body["data"]["customProperties"] = {"service": "checkout", "team": "payments", "alertname": "ignored"}
    body["data"]["alertContext"] = {"condition": {"allOf": [
        {"searchQuery": "Heartbeat | count", "operator": "LessThan", "threshold": "1",
         "linkToSearchResultsUI": "https://portal.azure.com/#search"},
        {"metricName": "Other", "operator": "GreaterThan", "threshold": 2}]}}
    alert = parse(body)
    assert alert.service == "checkout"
    assert alert.labels["team"] == "payments"
    assert alert.labels["alertname"] == "WCUS-R2-Gen2"  # custom properties never override
    assert "metric" not in alert.labels  # two criteria: no single metric
    assert alert.summary == "WCUS-R2-Gen2"
    assert alert.description == "CPU too high\nHeartbeat | count LessThan 1\nOther GreaterThan 2"
    assert alert.links == {"source": "https://portal.azure.com/#view/alert/1",
                           "search": "https://portal.azure.com/#search"}


@pytest.mark.parametrize(
    ("body", "path", "reason"),
    [
        (None, "", "expected an object"),
        ([1], "", "expected an object"),
        ({}, "schemaId", "is required"),
        ({"schemaId": "Microsoft.Insights/activityLogs"}, "schemaId", "unsupported schema"),
        ({"schemaId": "azureMonitorCommonAlertSchema"}, "data", "expected an object, got null"),
        ({"schemaId": "azureMonitorCommonAlertSchema", "data": {}}, "data.essentials", "expected an object"),
        ({"schemaId": "azureMonitorCommonAlertSchema", "data": {"essentials": {}}},
         "data.essentials.alertRule", "is required"),
        (fired(monitorCondition="Flapping"), "data.essentials.monitorCondition", "unknown value 'Flapping'"),
        (fired(alertId=None), "data.essentials.alertId", "is required"),
        (fired(severity=3), "data.essentials.severity", "expected a string"),
        (fired(firedDateTime="March"), "data.essentials.firedDateTime", "ISO 8601"),
        (fired(alertTargetIDs="x"), "data.essentials.alertTargetIDs", "expected an array"),
        ({**fired(), "data": {**fired()["data"], "customProperties": ["a"]}}, "data.customProperties",
         "expected an object"),
        ({**fired(), "data": {**fired()["data"], "alertContext": {"condition": {"allOf": [1]}}}},
         "data.alertContext.condition.allOf[0]", "expected an object"),
    ],
)
def test_malformed_bodies(body, path, reason):
    with pytest.raises(ParseError) as info:
        azure.parse(body, {}, {})
    assert info.value.path == path
    assert reason in info.value.reason

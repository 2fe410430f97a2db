"""Inbound alert formats: one pure parser per integration type, looked up by type name."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tocsin.domain.alert import ParseOutcome
from tocsin.integrations.inbound import (
    alertmanager,
    azure,
    cloudwatch,
    gcp,
    generic,
    grafana,
    newrelic,
    pagerduty,
    pingdom,
    sentry,
)

PARSERS: dict[str, Callable[[Any, Mapping[str, str], Mapping[str, Any]], ParseOutcome]] = {
    "alertmanager": alertmanager.parse,
    "pagerduty": pagerduty.parse,
    "grafana": grafana.parse,
    "cloudwatch": cloudwatch.parse,
    "azure": azure.parse,
    "sentry": sentry.parse,
    "newrelic": newrelic.parse,
    "gcp": gcp.parse,
    "pingdom": pingdom.parse,
    "generic": generic.parse,
}

# Checks of an integration's `options`, run when it is created (types without options have none).
OPTION_VALIDATORS: dict[str, Callable[[Any], list[tuple[str, str]]]] = {
    "generic": generic.validate_options,
}

DESCRIPTIONS: dict[str, str] = {
    "alertmanager": "Prometheus Alertmanager webhook (v4 and legacy v3): one alert per entry.",
    "pagerduty": "PagerDuty Events API v2 (trigger, acknowledge, resolve) from any PagerDuty client.",
    "grafana": "Grafana alerting webhook: unified alerting and legacy dashboard alerts.",
    "cloudwatch": "AWS CloudWatch alarms through SNS (HTTPS subscription, raw delivery or Lambda records).",
    "azure": "Azure Monitor alerts in the common alert schema (metric, log and activity log alerts).",
    "sentry": "Sentry integration webhooks: issue alerts and metric alerts.",
    "newrelic": "New Relic incident webhook (open, acknowledged, closed).",
    "gcp": "Google Cloud Monitoring (Stackdriver) incident webhook (open, closed).",
    "pingdom": "Pingdom check state changes (DOWN/UP, transaction checks FAILING/SUCCESS).",
    "generic": "Any JSON webhook, mapped to alerts by paths and templates configured on the integration.",
}

"""Azure Monitor alerts in the common alert schema (`azureMonitorCommonAlertSchema`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tocsin.domain.alert import ParseError, ParseOutcome
from tocsin.integrations.inbound import common as c

SCHEMA_ID = "azureMonitorCommonAlertSchema"
CONDITIONS = {"fired": "trigger", "resolved": "resolve"}
SEVERITIES = {"sev0": "critical", "sev1": "error", "sev2": "warning", "sev3": "info", "sev4": "info"}
_RESOURCE_ID = re.compile(r"/subscriptions/([^/]+)(?:/resourcegroups/([^/]+))?", re.IGNORECASE)


@c.guarded
def parse(body: Any, headers: Mapping[str, str], options: Mapping[str, Any]) -> ParseOutcome:
    """One alert from the common alert schema.

    monitorCondition Fired → trigger, Resolved → resolve; the dedup key is `essentials.alertId`,
    which Azure keeps for the Fired and Resolved notifications of one alert. Severities:
    Sev0 → critical, Sev1 → error, Sev2 → warning, Sev3 and Sev4 → info. Custom properties
    (from alert processing rules) become labels; a `service` property names the service.
    """
    payload = c.expect_object(body, "")
    schema = c.req_str(payload, "schemaId", "")
    if schema != SCHEMA_ID:
        raise ParseError(f"unsupported schema {schema[:60]!r} (expected {SCHEMA_ID})", "schemaId")
    data = c.expect_object(payload.get("data"), "data")
    essentials = c.expect_object(data.get("essentials"), "data.essentials")
    path = "data.essentials"
    rule = c.req_str(essentials, "alertRule", path)
    sev, source_sev = c.severity(c.opt_str(essentials, "severity", path), SEVERITIES)
    context = c.opt_object(data, "alertContext", "data")
    conditions = _conditions(context)
    labels = _labels(essentials, path, rule, conditions)
    custom = c.string_map(data.get("customProperties"), "data.customProperties")
    c.merge_missing(labels, custom)
    return ParseOutcome(alerts=(c.make_alert(
        source="azure",
        action=c.choice(essentials, "monitorCondition", path, CONDITIONS),
        dedup_key=c.req_str(essentials, "alertId", path),
        summary=_summary(rule, essentials, path),
        severity=sev, source_severity=source_sev,
        description=_description(essentials, path, conditions),
        labels=labels, links=_links(essentials, path, conditions),
        service=custom.get("service") or None,
        starts_at=c.parse_time(essentials.get("firedDateTime"), c.at(path, "firedDateTime")),
        ends_at=c.parse_time(essentials.get("resolvedDateTime"), c.at(path, "resolvedDateTime")),
    ),))


def _conditions(context: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The `alertContext.condition.allOf` criteria (metric and log alerts), if any."""
    condition = context.get("condition")
    if not isinstance(condition, Mapping):
        return []
    path = "data.alertContext.condition"
    criteria = c.opt_list(condition, "allOf", path)
    return [c.expect_object(item, f"{path}.allOf[{i}]") for i, item in enumerate(criteria)]


def _strings(essentials: Mapping[str, Any], key: str, path: str) -> list[str]:
    return [c.stringify(v) for v in c.opt_list(essentials, key, path) if v is not None]


def _summary(rule: str, essentials: Mapping[str, Any], path: str) -> str:
    items = _strings(essentials, "configurationItems", path)
    return f"{rule} on {', '.join(items)}" if items else rule


def _labels(essentials: Mapping[str, Any], path: str, rule: str,
            conditions: list[Mapping[str, Any]]) -> dict[str, str]:
    labels = {"alertname": rule}
    for label, key in (("signal_type", "signalType"), ("monitoring_service", "monitoringService")):
        value = c.opt_str(essentials, key, path)
        if value:
            labels[label] = value
    items = _strings(essentials, "configurationItems", path)
    targets = _strings(essentials, "alertTargetIDs", path)
    found = _RESOURCE_ID.search(targets[0]) if targets else None
    single = conditions[0] if len(conditions) == 1 else {}  # several criteria: no single metric
    metric = {"metric": single.get("metricName"), "metric_namespace": single.get("metricNamespace")}
    c.merge_missing(labels, {
        "resource": ",".join(items), "resource_id": ",".join(targets),
        "subscription_id": found.group(1) if found else None,
        "resource_group": found.group(2) if found else None, **metric,
    })
    return labels


def _description(essentials: Mapping[str, Any], path: str, conditions: list[Mapping[str, Any]]) -> str:
    lines = [c.opt_str(essentials, "description", path) or ""]
    for criterion in conditions:
        name = criterion.get("metricName") or criterion.get("searchQuery")
        if name is None:
            continue
        words = [c.stringify(criterion.get(key)) for key in ("operator", "threshold")]
        value = criterion.get("metricValue")
        shown = f" (value {c.stringify(value)})" if value is not None else ""
        lines.append(" ".join(" ".join([c.stringify(name), *words]).split()) + shown)
    return "\n".join(line for line in lines if line)


def _links(essentials: Mapping[str, Any], path: str, conditions: list[Mapping[str, Any]]) -> dict[str, str]:
    links: dict[str, str] = {}
    c.add_link(links, "source", c.opt_str(essentials, "investigationLink", path))
    for criterion in conditions:
        c.add_link(links, "search", criterion.get("linkToSearchResultsUI"))
    return links

"""Sentry integration-platform webhooks: issue alerts (event_alert) and metric alerts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tocsin.domain.alert import InboundAlert, Notice, ParseError, ParseOutcome
from tocsin.integrations.inbound import common as c

LEVELS = {"fatal": "critical", "error": "error", "warning": "warning", "info": "info", "debug": "info"}
METRIC_ACTIONS = {"critical": "trigger", "warning": "trigger", "resolved": "resolve"}
ISSUE_ACTIONS = {"triggered": "trigger"}


@c.guarded
def parse(body: Any, headers: Mapping[str, str], options: Mapping[str, Any]) -> ParseOutcome:
    """Issue alerts and metric alerts; the `sentry-hook-resource` header says which.

    The `sentry-hook-resource` header says which; without it the body's shape decides.
    Issue alerts (action `triggered`) → trigger keyed `issue:<issue_id>`, so every alert rule
    firing on one Sentry issue lands on the same alert; Sentry never resolves these.
    Metric alerts: critical/warning → trigger with that severity, resolved → resolve, keyed
    `metric_alert:<incident id>`. An `installation` hook yields a Notice, not an alert.
    """
    hook = c.expect_object(body, "")
    resource = (headers.get("sentry-hook-resource") or "").strip().lower()
    if resource == "installation":
        notice = Notice(kind="sentry_installation", message="Sentry integration installation event",
                        data={"action": c.stringify(hook.get("action"))})
        return ParseOutcome(notices=(notice,))
    data = c.expect_object(hook.get("data"), "data")
    if not resource:
        resource = "metric_alert" if "metric_alert" in data else "event_alert"
    if resource == "event_alert":
        return ParseOutcome(alerts=(_issue_alert(hook, data),))
    if resource == "metric_alert":
        return ParseOutcome(alerts=(_metric_alert(hook, data),))
    raise ParseError(f"unsupported hook resource {resource[:40]!r} (expected event_alert or metric_alert)")


def _issue_alert(hook: Mapping[str, Any], data: Mapping[str, Any]) -> InboundAlert:
    action = c.choice(hook, "action", "", ISSUE_ACTIONS)
    event = c.expect_object(data.get("event"), "data.event")
    path = "data.event"
    issue_id = c.req_id(event, "issue_id", path)
    rule = c.opt_str(data, "triggered_rule", "data")
    labels = _tags(event, path)
    c.merge_missing(labels, {"alertname": rule, "project": event.get("project"),
                             "platform": event.get("platform"), "issue_id": issue_id})
    sev, source_sev = c.severity(c.opt_str(event, "level", path), LEVELS)
    culprit = c.opt_str(event, "culprit", path)
    links: dict[str, str] = {}
    c.add_link(links, "source", c.opt_str(event, "web_url", path))
    when = "datetime" if event.get("datetime") is not None else "timestamp"
    return c.make_alert(
        source="sentry", action=action, dedup_key=f"issue:{issue_id}",
        summary=c.first_line(c.opt_str(event, "title", path), c.opt_str(event, "message", path),
                             culprit, fallback=f"Sentry issue {issue_id}"),
        severity=sev, source_severity=source_sev,
        description=f"Culprit: {culprit}" if culprit else "",
        labels=labels, annotations={"culprit": culprit} if culprit else {},
        links=links, service=labels.get("service"),
        starts_at=c.parse_time(event.get(when), c.at(path, when)),
    )


def _tags(event: Mapping[str, Any], path: str) -> dict[str, str]:
    """Sentry sends tags as [key, value] pairs (older payloads: objects with key/value)."""
    labels: dict[str, str] = {}
    for i, item in enumerate(c.opt_list(event, "tags", path)):
        if isinstance(item, list) and len(item) == 2:
            key, value = item
        elif isinstance(item, Mapping):
            key, value = item.get("key"), item.get("value")
        else:
            raise ParseError("expected a [key, value] pair", f"{path}.tags[{i}]")
        if isinstance(key, str) and key and value is not None:
            labels[key] = c.stringify(value)
    return labels


def _metric_alert(hook: Mapping[str, Any], data: Mapping[str, Any]) -> InboundAlert:
    action = c.choice(hook, "action", "", METRIC_ACTIONS)
    word = c.req_str(hook, "action", "").lower()
    incident = c.expect_object(data.get("metric_alert"), "data.metric_alert")
    path = "data.metric_alert"
    rule = c.opt_object(incident, "alert_rule", path)
    rule_name = c.opt_str(rule, "name", f"{path}.alert_rule")
    projects = [c.stringify(p) for p in c.opt_list(incident, "projects", path)]
    labels = {"alertname": rule_name or ""}
    c.merge_missing(labels, {key: rule.get(key) for key in ("aggregate", "dataset", "query", "environment")})
    c.merge_missing(labels, {"alert_rule_id": rule.get("id"), "project": ",".join(projects)})
    links: dict[str, str] = {}
    c.add_link(links, "source", c.opt_str(data, "web_url", "data"))
    return c.make_alert(
        source="sentry", action=action, dedup_key=f"metric_alert:{c.req_id(incident, 'id', path)}",
        summary=c.first_line(c.opt_str(data, "description_title", "data"), rule_name,
                             c.opt_str(incident, "title", path), fallback="Sentry metric alert"),
        severity=None if word == "resolved" else word,
        source_severity=None if word == "resolved" else word,
        description=c.opt_str(data, "description_text", "data") or "",
        labels={k: v for k, v in labels.items() if v}, links=links,
        starts_at=c.parse_time(incident.get("date_started"), c.at(path, "date_started")),
        ends_at=c.parse_time(incident.get("date_closed"), c.at(path, "date_closed")),
    )

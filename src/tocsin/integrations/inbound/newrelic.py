"""New Relic (legacy alerts) incident webhook: one alert per incident notification."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tocsin.domain.alert import ParseOutcome
from tocsin.integrations.inbound import common as c

STATES = {"open": "trigger", "acknowledged": "acknowledge", "closed": "resolve"}
SEVERITIES = {"critical": "critical", "warning": "warning", "info": "info"}
LINKS = (("source", "incident_url"), ("runbook", "runbook_url"), ("image", "violation_chart_url"),
         ("image", "violation_callback_url"), ("policy", "policy_url"),
         ("acknowledge", "incident_acknowledge_url"))


@c.guarded
def parse(body: Any, headers: Mapping[str, str], options: Mapping[str, Any]) -> ParseOutcome:
    """One alert per incident notification.

    current_state open → trigger, acknowledged → acknowledge, closed → resolve; the dedup key is
    the incident_id, which New Relic keeps for the whole incident. Severity CRITICAL/WARNING/INFO
    map to the same Tocsin words. The first target of type Application names the service (an
    APM application is a service).
    """
    incident = c.expect_object(body, "")
    action = c.choice(incident, "current_state", "", STATES)
    incident_id = c.req_id(incident, "incident_id", "")
    condition = c.opt_str(incident, "condition_name", "")
    policy = c.opt_str(incident, "policy_name", "")
    targets = [c.expect_object(t, f"targets[{i}]") for i, t in enumerate(c.opt_list(incident, "targets", ""))]
    sev, source_sev = c.severity(c.opt_str(incident, "severity", ""), SEVERITIES)
    links: dict[str, str] = {}
    for name, key in LINKS:
        c.add_link(links, name, c.opt_str(incident, key, ""))
    when = c.from_epoch(incident.get("timestamp"), "timestamp", millis=True)
    return ParseOutcome(alerts=(c.make_alert(
        source="newrelic", action=action, dedup_key=incident_id,
        summary=c.first_line(c.opt_str(incident, "details", ""), condition, policy,
                             fallback=f"New Relic incident {incident_id}"),
        severity=sev, source_severity=source_sev,
        description=_description(policy, condition, targets),
        labels=_labels(incident, condition, policy, targets), links=links,
        service=_service(targets),
        starts_at=when if action != "resolve" else None,
        ends_at=when if action == "resolve" else None,
    ),))


def _labels(incident: Mapping[str, Any], condition: str | None, policy: str | None,
            targets: list[Mapping[str, Any]]) -> dict[str, str]:
    labels: dict[str, str] = {}
    c.merge_missing(labels, {
        "alertname": condition, "condition": condition, "policy": policy,
        "condition_id": incident.get("condition_id"), "account": incident.get("account_name"),
        "account_id": incident.get("account_id"), "event_type": incident.get("event_type"),
    })
    if targets:
        first = targets[0]
        c.merge_missing(labels, {"target": first.get("name"), "target_type": first.get("type"),
                                 "product": first.get("product")})
        c.merge_missing(labels, c.string_map(first.get("labels"), "targets[0].labels"))
    return labels


def _description(policy: str | None, condition: str | None, targets: list[Mapping[str, Any]]) -> str:
    names = [c.stringify(t.get("name")) for t in targets if t.get("name")]
    lines = [f"Policy: {policy}" if policy else "", f"Condition: {condition}" if condition else "",
             f"Targets: {', '.join(names)}" if names else ""]
    return "\n".join(line for line in lines if line)


def _service(targets: list[Mapping[str, Any]]) -> str | None:
    for target in targets:
        if target.get("type") == "Application" and isinstance(target.get("name"), str):
            return target["name"].strip() or None
    return None

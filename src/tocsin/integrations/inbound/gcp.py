"""Google Cloud Monitoring (Stackdriver) incident webhook, versions 1.1 and 1.2."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tocsin.domain.alert import ParseOutcome
from tocsin.integrations.inbound import common as c

STATES = {"open": "trigger", "closed": "resolve"}
SEVERITIES = {"critical": "critical", "error": "error", "warning": "warning"}


@c.guarded
def parse(body: Any, headers: Mapping[str, str], options: Mapping[str, Any]) -> ParseOutcome:
    """One alert per incident notification.

    incident.state open → trigger, closed → resolve; the dedup key is incident.incident_id, the
    same for the open and closed notifications. Severity (1.2: Critical/Error/Warning) maps to the
    same Tocsin word. Resource labels and the policy's user labels become labels; a `service`
    user label names the service.
    """
    payload = c.expect_object(body, "")
    incident = c.expect_object(payload.get("incident"), "incident")
    path = "incident"
    incident_id = c.req_id(incident, "incident_id", path)
    policy = c.opt_str(incident, "policy_name", path)
    condition = c.opt_str(incident, "condition_name", path)
    sev, source_sev = c.severity(c.opt_str(incident, "severity", path), SEVERITIES)
    labels = _labels(incident, path, policy, condition)
    documentation = c.opt_object(incident, "documentation", path)
    links: dict[str, str] = {}
    c.add_link(links, "source", c.opt_str(incident, "url", path))
    return ParseOutcome(alerts=(c.make_alert(
        source="gcp", action=c.choice(incident, "state", path, STATES), dedup_key=incident_id,
        summary=c.first_line(c.opt_str(incident, "summary", path), condition, policy,
                             fallback=f"Cloud Monitoring incident {incident_id}"),
        severity=sev, source_severity=source_sev,
        description=c.opt_str(documentation, "content", f"{path}.documentation") or "",
        labels=labels, links=links, service=labels.get("service"),
        starts_at=c.from_epoch(incident.get("started_at"), f"{path}.started_at"),
        ends_at=c.from_epoch(incident.get("ended_at"), f"{path}.ended_at"),
    ),))


def _labels(incident: Mapping[str, Any], path: str, policy: str | None,
            condition: str | None) -> dict[str, str]:
    labels: dict[str, str] = {}
    resource = c.opt_object(incident, "resource", path)
    metric = c.opt_object(incident, "metric", path)
    c.merge_missing(labels, {
        "alertname": policy or condition, "policy": policy, "condition": condition,
        "resource_id": incident.get("resource_id"), "resource_name": incident.get("resource_name"),
        "resource_type": resource.get("type") or incident.get("resource_type_display_name"),
        "metric": metric.get("type"), "project_id": incident.get("scoping_project_id"),
    })
    c.merge_missing(labels, c.string_map(incident.get("policy_user_labels"), f"{path}.policy_user_labels"))
    c.merge_missing(labels, c.string_map(resource.get("labels"), f"{path}.resource.labels"))
    return labels

"""Pingdom state-change webhook (uptime and transaction checks)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tocsin.domain.alert import ParseOutcome
from tocsin.integrations.inbound import common as c

STATES = {"down": "trigger", "failing": "trigger", "up": "resolve", "success": "resolve"}
IMPORTANCE = {"high": "critical", "low": "warning"}


@c.guarded
def parse(body: Any, headers: Mapping[str, str], options: Mapping[str, Any]) -> ParseOutcome:
    """One alert per check state change.

    current_state DOWN (transaction checks: FAILING) → trigger, UP (SUCCESS) → resolve; the dedup
    key is `check:<check_id>`, shared by the DOWN and UP notifications of one check. Importance
    HIGH → critical, LOW → warning (a check that is down always needs someone, but less urgently).
    """
    check = c.expect_object(body, "")
    check_id = c.req_id(check, "check_id", "")
    action = c.choice(check, "current_state", "", STATES)
    state = c.req_str(check, "current_state", "").upper()
    name = c.opt_str(check, "check_name", "")
    reason = c.opt_str(check, "description", "")
    params = c.opt_object(check, "check_params", "")
    sev, source_sev = c.severity(c.opt_str(check, "importance_level", ""), IMPORTANCE)
    links: dict[str, str] = {}
    c.add_link(links, "target", params.get("full_url"))
    when = _changed_at(check)
    return ParseOutcome(alerts=(c.make_alert(
        source="pingdom", action=action, dedup_key=f"check:{check_id}",
        summary=f"{name or f'Pingdom check {check_id}'} is {state}" + (f": {reason}" if reason else ""),
        severity=sev, source_severity=source_sev,
        description=c.opt_str(check, "long_description", "") or "",
        labels=_labels(check, check_id, name, params), links=links,
        starts_at=when if action == "trigger" else None,
        ends_at=when if action == "resolve" else None,
    ),))


def _changed_at(check: Mapping[str, Any]) -> Any:
    if check.get("state_changed_timestamp") is not None:
        return c.from_epoch(check["state_changed_timestamp"], "state_changed_timestamp")
    # The name says UTC; the value carries no offset.
    return c.parse_time(check.get("state_changed_utc_time"), "state_changed_utc_time", naive_utc=True)


def _labels(check: Mapping[str, Any], check_id: str, name: str | None,
            params: Mapping[str, Any]) -> dict[str, str]:
    labels: dict[str, str] = {}
    tags = [_tag(t) for t in c.opt_list(check, "tags", "")]
    c.merge_missing(labels, {
        "alertname": name, "check_id": check_id, "check_type": check.get("check_type"),
        "hostname": params.get("hostname"), "url": params.get("full_url"),
        "tags": ",".join(t for t in tags if t),
    })
    return labels


def _tag(tag: Any) -> str:
    """Tags come as plain strings, or as objects with a name in some API versions."""
    return c.stringify(tag.get("name")) if isinstance(tag, Mapping) else c.stringify(tag)

"""Grafana alert webhooks: unified alerting (Alertmanager-like `alerts`) and legacy alerting."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from tocsin.domain.alert import InboundAlert, Notice, ParseError, ParseOutcome
from tocsin.integrations.inbound import alertmanager
from tocsin.integrations.inbound import common as c

LEGACY_STATES = {"alerting": "trigger", "no_data": "trigger", "ok": "resolve", "paused": "resolve",
                 "pending": None}


@c.guarded
def parse(body: Any, headers: Mapping[str, str], options: Mapping[str, Any]) -> ParseOutcome:
    """Unified alerting (`alerts`) or legacy alerting (`ruleId`, `ruleName`, `state`).

    Unified: one alert per entry, keyed by its `fingerprint` (see alertmanager.parse_entry), with
    Grafana's dashboard, panel, silence and image URLs as links and `valueString` as annotation.

    Legacy (`ruleId`, `ruleName`, `state`): one alert keyed `rule:<ruleId>` so `alerting` and its
    later `ok` share a key. States: alerting → trigger; no_data → trigger with severity warning
    (the rule cannot tell whether things are fine); ok → resolve; paused → resolve (a paused rule
    no longer evaluates, so nothing else would ever clear the alert); pending → no alert, only a
    Notice (the rule has not fired yet).
    """
    payload = c.expect_object(body, "")
    if "alerts" in payload:
        return _unified(payload)
    if "ruleId" in payload or "ruleName" in payload:
        return _legacy(payload)
    raise ParseError("neither a unified alerting payload (alerts) nor a legacy one (ruleId, ruleName)", "")


def _unified(payload: Mapping[str, Any]) -> ParseOutcome:
    base = c.clean_url(payload.get("externalURL"))
    entries = c.expect_list(payload.get("alerts"), "alerts", non_empty=True)
    alerts = []
    for i, entry in enumerate(entries):
        path = c.at("alerts", i)
        alert = alertmanager.parse_entry(entry, path, source="grafana", group=payload, base=base)
        alerts.append(_with_grafana_extras(alert, entry, path, base))
    return ParseOutcome(alerts=tuple(alerts))


def _with_grafana_extras(alert: InboundAlert, entry: Mapping[str, Any], path: str,
                         base: str | None) -> InboundAlert:
    links = dict(alert.links)
    for name, key in (("dashboard", "dashboardURL"), ("panel", "panelURL"),
                      ("silence", "silenceURL"), ("image", "imageURL")):
        c.add_link(links, name, c.opt_str(entry, key, path), base)
    annotations = dict(alert.annotations)
    value_string = c.opt_str(entry, "valueString", path)
    if value_string:
        annotations.setdefault("value_string", value_string)
    fields = {f.name: getattr(alert, f.name) for f in dataclasses.fields(alert)}
    fields.update(links=links, annotations=annotations, description=alert.description or value_string)
    return c.make_alert(**fields)  # again, so the added values keep the limits too


def _legacy(payload: Mapping[str, Any]) -> ParseOutcome:
    action = c.choice(payload, "state", "", LEGACY_STATES)
    word = payload["state"].strip().lower()  # a known state: choice() checked it
    rule_name = c.opt_str(payload, "ruleName", "")
    title = c.opt_str(payload, "title", "")
    if word == "pending":
        return ParseOutcome(notices=(Notice(
            kind="grafana_rule_pending", message=f"Grafana rule {rule_name or title or '?'} is pending",
            data={"ruleId": payload.get("ruleId"), "ruleName": rule_name}),))
    labels, annotations = _legacy_labels(payload, rule_name)
    tag_sev = labels.get("severity")
    sev, source_sev = c.severity(tag_sev) if tag_sev else (None, None)
    if word == "no_data":
        sev, source_sev = "warning", "no_data"
    links: dict[str, str] = {}
    c.add_link(links, "dashboard", c.opt_str(payload, "ruleUrl", ""))
    c.add_link(links, "image", c.opt_str(payload, "imageUrl", ""))
    return ParseOutcome(alerts=(c.make_alert(
        source="grafana", action=action, dedup_key=_legacy_key(payload, rule_name),
        summary=c.first_line(rule_name, title, fallback="Grafana alert"),
        severity=sev, source_severity=source_sev,
        description=c.opt_str(payload, "message", "") or "",
        labels=labels, annotations=annotations, links=links, service=labels.get("service"),
    ),))


def _legacy_key(payload: Mapping[str, Any], rule_name: str | None) -> str:
    rule_id = c.opt_id(payload, "ruleId", "")
    if rule_id is not None:
        return f"rule:{rule_id}"
    if not rule_name:
        raise ParseError("a legacy alert needs a ruleId or a ruleName to be identified", "ruleId")
    return f"rule:{c.sha256_hex(rule_name)}"


def _legacy_labels(payload: Mapping[str, Any],
                   rule_name: str | None) -> tuple[dict[str, str], dict[str, str]]:
    """Rule name and tags as labels; a single match's metric and tags too (several are ambiguous)."""
    labels = {"alertname": rule_name or ""}
    rule_id = c.opt_id(payload, "ruleId", "")
    if rule_id is not None:
        labels["rule_id"] = rule_id
    c.merge_missing(labels, c.string_map(payload.get("tags"), "tags"))
    matches = c.opt_list(payload, "evalMatches", "")
    shown = []
    for i, item in enumerate(matches):
        match = c.expect_object(item, c.at("evalMatches", i))
        metric = c.stringify(match.get("metric"))
        shown.append(f"{metric}={c.stringify(match.get('value'))}")
        tags = c.string_map(match.get("tags"), c.at(c.at("evalMatches", i), "tags"))
        if len(matches) == 1:
            c.merge_missing(labels, {"metric": metric, **tags})
    annotations = {"eval_matches": "; ".join(shown)} if shown else {}
    return {k: v for k, v in labels.items() if v}, annotations

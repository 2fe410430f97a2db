"""Prometheus Alertmanager webhook (v4, and the legacy v3) parsed into one alert per entry."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tocsin.domain.alert import InboundAlert, ParseError, ParseOutcome
from tocsin.integrations.inbound import common as c

STATUSES = {"firing": "trigger", "resolved": "resolve"}
VERSIONS = ("3", "4")
# Labels that best tell one instance of an alert from another, for a generated summary.
KEY_LABELS = ("service", "job", "instance", "namespace", "pod", "host", "cluster")
LINK_ANNOTATIONS = (("runbook", ("runbook_url", "runbook")),
                    ("dashboard", ("dashboard_url", "dashboard", "grafana_url")))


@c.guarded
def parse(body: Any, headers: Mapping[str, str], options: Mapping[str, Any]) -> ParseOutcome:
    """One InboundAlert per entry of `alerts`.

    Each entry of `alerts` becomes an InboundAlert: `firing` → trigger, `resolved` → resolve.
    The dedup key is the entry's `fingerprint` (v4) or, when absent (v3), the sha256 of its
    sorted labels, so a firing and its later resolved notification share a key.
    """
    group = c.expect_object(body, "")
    version = group.get("version")
    if version is not None and str(version) not in VERSIONS:
        raise ParseError(f"unsupported webhook version {str(version)[:20]!r} (expected 3 or 4)", "version")
    base = c.clean_url(group.get("externalURL"))
    entries = c.expect_list(group.get("alerts"), "alerts", non_empty=True)
    return ParseOutcome(alerts=tuple(
        plain_entry(entry, "alertmanager", base)
        or full_entry(entry, c.at("alerts", i), source="alertmanager", group=group, base=base)
        for i, entry in enumerate(entries)
    ))


def parse_entry(entry: Any, path: str, *, source: str, group: Mapping[str, Any],
                base: str | None) -> InboundAlert:
    """One Alertmanager-shaped alert entry (shared with Grafana's unified alerting)."""
    return plain_entry(entry, source, base) or full_entry(entry, path, source=source,
                                                          group=group, base=base)


def plain_entry(entry: Any, source: str, base: str | None) -> InboundAlert | None:
    """The usual entry, in few steps: an object with a `firing`/`resolved` status, labels and
    annotations of plain ASCII strings, a fingerprint (or labels to key on) and valid times.
    None for anything else; `full_entry` then parses it and explains what is wrong. Both give
    equal alerts for every entry this one takes (a property test holds them to it). Intake's
    hot path: most of a single-alert request's parsing time was spent in the general path."""
    if type(entry) is not dict:
        return None
    status = entry.get("status")
    if type(status) is not str or status not in STATUSES:
        return None
    labels = c.plain_map(entry.get("labels"))
    annotations = c.plain_map(entry.get("annotations"))
    if labels is None or annotations is None:
        return None
    fingerprint = entry.get("fingerprint")
    if fingerprint is None:
        if not labels:
            return None
        key = c.labels_key(labels)
    elif type(fingerprint) is str and c.plain_key(fingerprint := fingerprint.strip()):
        key = fingerprint
    else:
        return None
    generator = entry.get("generatorURL")
    if generator is not None and type(generator) is not str:
        return None
    try:
        starts_at = c.parse_time(entry.get("startsAt"), "")
        ends_at = c.parse_time(entry.get("endsAt"), "")
    except ParseError:
        return None
    sev, source_sev = c.severity(labels.get("severity") or annotations.get("severity"))
    return InboundAlert(
        source=source, action=STATUSES[status], dedup_key=key,
        summary=_summary(annotations, labels, source), severity=sev,
        source_severity=source_sev, description=annotations.get("description", "").strip(),
        labels=labels, annotations=annotations,
        links=c.clean_map(_links(entry, annotations, base, "")),
        service=labels.get("service", "").strip() or None,
        starts_at=starts_at, ends_at=ends_at)


def full_entry(entry: Any, path: str, *, source: str, group: Mapping[str, Any],
               base: str | None) -> InboundAlert:
    """Any entry, checked field by field: the precise ParseError when it is wrong."""
    alert = c.expect_object(entry, path)
    action = _action(alert, path, group)
    labels = c.string_map(alert.get("labels"), c.at(path, "labels"))
    annotations = c.string_map(alert.get("annotations"), c.at(path, "annotations"))
    sev, source_sev = c.severity(labels.get("severity") or annotations.get("severity"))
    return c.make_alert(
        source=source,
        action=action,
        dedup_key=_dedup_key(alert, labels, path),
        summary=_summary(annotations, labels, source),
        severity=sev,
        source_severity=source_sev,
        description=annotations.get("description", ""),
        labels=labels,
        annotations=annotations,
        links=_links(alert, annotations, base, path),
        service=labels.get("service") or None,
        starts_at=c.parse_time(alert.get("startsAt"), c.at(path, "startsAt")),
        ends_at=c.parse_time(alert.get("endsAt"), c.at(path, "endsAt")),
    )


def _action(alert: Mapping[str, Any], path: str, group: Mapping[str, Any]) -> str:
    # v3 and v4 always carry a per-alert status; the group's status is only a fallback.
    if alert.get("status") is None and isinstance(group.get("status"), str):
        return c.choice(group, "status", "", STATUSES)
    return c.choice(alert, "status", path, STATUSES)


def _dedup_key(alert: Mapping[str, Any], labels: Mapping[str, str], path: str) -> str:
    fingerprint = c.opt_str(alert, "fingerprint", path)
    if fingerprint:
        return fingerprint
    if not labels:
        raise ParseError("an alert needs labels or a fingerprint to be identified", c.at(path, "labels"))
    return c.labels_key(labels)


def _summary(annotations: Mapping[str, str], labels: Mapping[str, str], source: str) -> str:
    for key in ("summary", "message"):
        if line := c.one_line(annotations.get(key)):
            return line
    return c.first_line(fallback=generated_summary(labels, source))   # only when needed


def generated_summary(labels: Mapping[str, str], source: str) -> str:
    """`alertname (service=…, instance=…)` when no summary annotation was written."""
    name = labels.get("alertname") or f"{source} alert"
    keys = [f"{k}={labels[k]}" for k in KEY_LABELS if labels.get(k)]
    return f"{name} ({', '.join(keys)})" if keys else name


def _links(alert: Mapping[str, Any], annotations: Mapping[str, str], base: str | None,
           path: str) -> dict[str, str]:
    links: dict[str, str] = {}
    for name, keys in LINK_ANNOTATIONS:
        for key in keys:
            if key in annotations:
                c.add_link(links, name, annotations[key])
    c.add_link(links, "generator", c.opt_str(alert, "generatorURL", path), base)
    if base:   # cleaned once for the whole notification
        links.setdefault("source", base)
    return links

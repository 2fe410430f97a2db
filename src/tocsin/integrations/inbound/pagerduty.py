"""PagerDuty Events API v2 (`/v2/enqueue` body), validated the way PagerDuty validates it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tocsin.domain.alert import ALERT_SEVERITIES, ParseError, ParseOutcome
from tocsin.integrations.inbound import common as c

ACTIONS = {"trigger": "trigger", "acknowledge": "acknowledge", "resolve": "resolve"}
SEVERITIES = {s: s for s in ALERT_SEVERITIES}  # PagerDuty's four words are Tocsin's
LABEL_FIELDS = ("source", "component", "group", "class")


@c.guarded
def parse(body: Any, headers: Mapping[str, str], options: Mapping[str, Any]) -> ParseOutcome:
    """One alert per Events API v2 event, validated the way PagerDuty validates it.

    trigger needs payload.summary, payload.source and a valid payload.severity; acknowledge and
    resolve need a dedup_key (their payload is optional and only used for display).

    Exception to the non-empty dedup key rule: a trigger without `dedup_key` yields an alert whose
    dedup_key is "" — PagerDuty generates one in that case, so the caller must assign a fresh key
    (and return it to the sender) instead of deduplicating.
    """
    event = c.expect_object(body, "")
    c.req_str(event, "routing_key", "")
    action = c.choice(event, "event_action", "", ACTIONS)
    dedup_key = c.opt_str(event, "dedup_key", "") or ""
    if action == "trigger":
        payload = c.expect_object(event.get("payload"), "payload")
        c.req_str(payload, "source", "payload")
        summary = c.req_str(payload, "summary", "payload")
        sev = c.choice(payload, "severity", "payload", SEVERITIES)
    else:
        if not dedup_key:
            raise ParseError(f"required for event_action {action}", "dedup_key")
        payload = c.opt_object(event, "payload", "")
        summary = c.opt_str(payload, "summary", "payload") or f"PagerDuty {action} for {dedup_key}"
        sev = SEVERITIES.get(str(payload.get("severity", "")).lower())
    description, annotations = _details(payload.get("custom_details"))
    return ParseOutcome(alerts=(c.make_alert(
        source="pagerduty", action=action, dedup_key=dedup_key, summary=summary,
        severity=sev, source_severity=sev,
        description=description, annotations=annotations,
        labels=_labels(event, payload), links=_links(event),
        starts_at=c.parse_time(payload.get("timestamp"), "payload.timestamp"),
    ),))


def _labels(event: Mapping[str, Any], payload: Mapping[str, Any]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for key in LABEL_FIELDS:
        value = c.opt_str(payload, key, "payload")
        if value:
            labels[key] = value
    client = c.opt_str(event, "client", "")
    if client:
        labels["client"] = client
    return labels


def _details(details: Any) -> tuple[str, dict[str, str]]:
    """custom_details: a string is the description; an object's members become annotations."""
    if details is None:
        return "", {}
    if isinstance(details, str):
        return details, {}
    if isinstance(details, Mapping):
        return "", c.string_map(details, "payload.custom_details")
    return "", {"custom_details": c.stringify(details)}


def _links(event: Mapping[str, Any]) -> dict[str, str]:
    """`links[]` named by their text, `images[]` as image, image_2, …; client_url as source."""
    links: dict[str, str] = {}
    for i, item in enumerate(c.opt_list(event, "links", "")):
        entry = c.expect_object(item, c.at("links", i))
        href = c.req_str(entry, "href", c.at("links", i))
        name = c.one_line(c.opt_str(entry, "text", c.at("links", i)), 100) or f"link_{i + 1}"
        c.add_link(links, name, href)
    for i, item in enumerate(c.opt_list(event, "images", "")):
        entry = c.expect_object(item, c.at("images", i))
        src = c.req_str(entry, "src", c.at("images", i))
        c.add_link(links, "image" if i == 0 else f"image_{i + 1}", src)
    c.add_link(links, "source", c.opt_str(event, "client_url", ""))
    return links

"""The limits every parsed alert must keep, checked the same way for every parser."""

from __future__ import annotations

from datetime import UTC, timedelta

from tocsin.domain.alert import ACTIONS, ALERT_SEVERITIES, InboundAlert, Notice, ParseOutcome


def storable(text: str) -> bool:
    """Encodable as UTF-8 and free of NUL, as PostgreSQL text must be."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def check_alert(alert: InboundAlert, *, empty_key_ok: bool = False) -> None:
    assert alert.action in ACTIONS
    assert isinstance(alert.dedup_key, str) and len(alert.dedup_key) <= 255
    assert alert.dedup_key.strip() or empty_key_ok, alert
    assert isinstance(alert.summary, str) and 0 < len(alert.summary) <= 500
    assert "\n" not in alert.summary and "\r" not in alert.summary
    assert alert.summary == alert.summary.strip()
    assert alert.severity is None or alert.severity in ALERT_SEVERITIES
    assert alert.source_severity is None or isinstance(alert.source_severity, str)
    assert isinstance(alert.description, str)
    for mapping in (alert.labels, alert.annotations, alert.links):
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()), mapping
        assert all(storable(k) and storable(v) for k, v in mapping.items()), mapping
    assert all(storable(text) for text in (alert.dedup_key, alert.summary, alert.description))
    assert all(v.startswith(("http://", "https://")) for v in alert.links.values()), alert.links
    assert alert.service is None or (isinstance(alert.service, str) and alert.service.strip())
    for when in (alert.starts_at, alert.ends_at):
        assert when is None or when.utcoffset() == timedelta(0) and when.tzinfo is UTC


def check_outcome(outcome: ParseOutcome, *, empty_key_ok: bool = False) -> None:
    assert isinstance(outcome, ParseOutcome)
    assert all(isinstance(n, Notice) and n.kind for n in outcome.notices)
    for alert in outcome.alerts:
        assert isinstance(alert, InboundAlert)
        check_alert(alert, empty_key_ok=empty_key_ok)

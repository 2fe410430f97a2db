"""Alertmanager webhook v4 and legacy v3, from real Alertmanager requests and alerta fixtures."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tocsin.domain.alert import ParseError
from tocsin.integrations.inbound import alertmanager

from .invariants import check_outcome
from .payloads import headers, payload

FIRING = "alertmanager-0.25.0/01_webhook_v4_firing.json"
RESOLVED = "alertmanager-0.25.0/06_webhook_v4_resolved.json"
V3 = "alerta-fixtures/alertmanager_webhook_v3_legacy.json"
V4_ALERTA = "alerta-fixtures/alertmanager_webhook_v4.json"


def parse(body):
    outcome = alertmanager.parse(body, {}, {})
    check_outcome(outcome)
    return outcome


def test_v4_firing_from_the_real_binary():
    first, second = parse(payload(FIRING)).alerts
    assert headers(FIRING)["user-agent"] == "Alertmanager/0.25.0"
    assert (first.dedup_key, second.dedup_key) == ("711c95e367dfcd66", "93909538bba39bb0")
    assert first.action == "trigger"
    assert first.source == "alertmanager"
    assert first.summary == "5xx rate above 5% on checkout"
    assert first.description == "checkout-7d9f:8080 returns 7.2% 5xx over 5m"
    assert (first.severity, first.source_severity, first.service) == ("critical", "critical", "checkout")
    assert first.labels == {"alertname": "HighErrorRate", "instance": "checkout-7d9f:8080", "job": "checkout",
                            "service": "checkout", "severity": "critical"}
    assert first.annotations["runbook_url"] == "https://runbooks.example.com/HighErrorRate"
    assert first.links == {
        "runbook": "https://runbooks.example.com/HighErrorRate",
        "generator": "http://prometheus.example:9090/graph?g0.expr=rate(http_requests_total%7Bcode%3D~%225..%22%7D%5B5m%5D)",
        "source": "http://vm:19093",
    }
    assert "runbook" not in second.links
    assert first.starts_at == datetime(2026, 11, 27, 12, 29, 28, tzinfo=UTC)
    assert first.ends_at is None  # 0001-01-01T00:00:00Z means unset


def test_resolved_pairs_with_firing_by_dedup_key():
    firing = parse(payload(FIRING)).alerts
    resolved = parse(payload(RESOLVED)).alerts
    assert [a.dedup_key for a in resolved] == [a.dedup_key for a in firing]
    assert [a.action for a in resolved] == ["resolve", "resolve"]
    assert resolved[0].ends_at == datetime(2026, 11, 27, 12, 29, 34, tzinfo=UTC)
    assert resolved[0].starts_at == firing[0].starts_at


def test_v3_legacy_without_fingerprint_keys_on_sorted_labels():
    (alert,) = parse(payload(V3)).alerts
    labels = payload(V3)["alerts"][0]["labels"]
    expected = hashlib.sha256(json.dumps(sorted(labels.items()), separators=(",", ":")).encode()).hexdigest()
    assert alert.dedup_key == expected
    assert (alert.action, alert.summary) == ("trigger", "Connect fail")
    assert alert.description == "Connect to host2 fails"
    assert (alert.service, alert.severity) == ("System", "critical")
    assert alert.labels["timeout"] == "600"
    assert alert.starts_at == datetime(2016, 8, 1, 10, 27, 8, 8000, tzinfo=UTC)  # +03:00 → UTC
    assert alert.links == {"generator": "http://prometheus.host:9090/...", "source": "http://alertmanager.host:9093"}


def test_label_order_does_not_change_the_key():
    body = payload(V3)
    reordered = copy.deepcopy(body)
    reordered["alerts"][0]["labels"] = dict(reversed(list(body["alerts"][0]["labels"].items())))
    assert parse(body).alerts[0].dedup_key == parse(reordered).alerts[0].dedup_key


def test_alerta_v4_fixture():
    (alert,) = parse(payload(V4_ALERTA)).alerts
    assert alert.summary == "No things for over 10 minutes"
    assert alert.service is None
    assert alert.labels == {"alertname": "thing_dead", "severity": "critical"}
    assert alert.annotations["runbookGood"] == "https://internal.myorg.net/wiki/alerts/{alertname}"
    assert alert.starts_at == datetime(2017, 8, 3, 19, 17, 37, 804000, tzinfo=UTC)


def _one(**overrides):
    entry = {"status": "firing", "labels": {"alertname": "DiskFull", "instance": "db1:9100", "job": "node"},
             "annotations": {}, "startsAt": "2026-01-01T00:00:00Z"}
    entry.update(overrides)
    return {"version": "4", "status": "firing", "alerts": [entry]}


@pytest.mark.parametrize(
    ("overrides", "summary"),
    [
        ({}, "DiskFull (job=node, instance=db1:9100)"),
        ({"annotations": {"message": "disk is full"}}, "disk is full"),
        ({"annotations": {"summary": "  multi\nline  "}}, "multi line"),
        ({"labels": {"env": "prod"}}, "alertmanager alert"),
        ({"annotations": {"summary": "s" * 800}}, "s" * 499 + "…"),
    ],
)
def test_summary_fallbacks(overrides, summary):
    assert parse(_one(**overrides)).alerts[0].summary == summary


@pytest.mark.parametrize(
    ("labels", "annotations", "severity", "source"),
    [
        ({"severity": "page"}, {}, "critical", "page"),
        ({"severity": "Warning"}, {}, "warning", "Warning"),
        ({}, {"severity": "minor"}, "warning", "minor"),
        ({"severity": "sev-unknown"}, {}, None, "sev-unknown"),
        ({}, {}, None, None),
    ],
)
def test_severity_from_labels_then_annotations(labels, annotations, severity, source):
    body = _one(labels={"alertname": "X", **labels}, annotations=annotations)
    alert = parse(body).alerts[0]
    assert (alert.severity, alert.source_severity) == (severity, source)


def test_long_fingerprint_is_hashed_and_dashboard_annotation_is_linked():
    body = _one(fingerprint="f" * 300, annotations={"dashboard_url": "https://g.example/d/1",
                                                    "runbook_url": "javascript:alert(1)"})
    alert = parse(body).alerts[0]
    assert alert.dedup_key == hashlib.sha256(("f" * 300).encode()).hexdigest()
    assert alert.links == {"dashboard": "https://g.example/d/1"}  # unsafe runbook URL dropped


def test_group_status_is_a_fallback_for_a_missing_alert_status():
    body = _one()
    del body["alerts"][0]["status"]
    body["status"] = "resolved"
    assert parse(body).alerts[0].action == "resolve"


@pytest.mark.parametrize(
    ("body", "path", "reason"),
    [
        (None, "", "expected an object, got null"),
        ([], "", "expected an object, got an array"),
        ("x", "", "expected an object, got a string"),
        ({}, "alerts", "expected an array, got null"),
        ({"alerts": []}, "alerts", "must not be empty"),
        ({"alerts": {"a": 1}}, "alerts", "expected an array"),
        ({"alerts": [None]}, "alerts[0]", "expected an object, got null"),
        ({"alerts": [{"labels": {"a": "b"}}]}, "alerts[0].status", "is required"),
        ({"alerts": [{"status": "pending", "labels": {"a": "b"}}]}, "alerts[0].status",
         "unknown value 'pending'"),
        ({"alerts": [{"status": "firing", "labels": ["a"]}]}, "alerts[0].labels", "expected an object"),
        ({"alerts": [{"status": "firing"}]}, "alerts[0].labels", "needs labels or a fingerprint"),
        ({"alerts": [{"status": "firing", "labels": {"a": "b"}, "annotations": "x"}]},
         "alerts[0].annotations", "expected an object"),
        ({"alerts": [{"status": "firing", "labels": {"a": "b"}, "startsAt": "soon"}]},
         "alerts[0].startsAt", "not an ISO 8601 timestamp"),
        ({"alerts": [{"status": "firing", "labels": {"a": "b"}, "fingerprint": 12}]},
         "alerts[0].fingerprint", "expected a string"),
        ({"alerts": [{"status": "firing", "labels": {"a": "b"}, "generatorURL": []}]},
         "alerts[0].generatorURL", "expected a string"),
        ({"version": "5", "alerts": []}, "version", "unsupported webhook version '5'"),
    ],
)
def test_malformed_bodies(body, path, reason):
    with pytest.raises(ParseError) as info:
        alertmanager.parse(body, {}, {})
    assert info.value.path == path
    assert reason in info.value.reason


def test_error_points_at_the_bad_entry():
    body = payload(FIRING)
    body["alerts"][1]["status"] = 3
    with pytest.raises(ParseError) as info:
        alertmanager.parse(body, {}, {})
    assert info.value.path == "alerts[1].status"


# --- the plain-entry fast path gives what the full path gives -----------------------------------

_WORDS = st.sampled_from(["firing", "resolved", "Firing", " resolved ", "pending", ""])
_TEXT = st.text(max_size=12) | st.sampled_from(["critical", "warning", "P1", "checkout", " x  y ",
                                               "\tdisk\nfull ", "é", "a\x00b", "x" * 300])
_VALUE = _TEXT | st.integers() | st.none() | st.booleans() | st.lists(st.integers(), max_size=2)
_KEYS = st.sampled_from(["alertname", "severity", "service", "instance", "summary", "message",
                         "description", "runbook_url", "dashboard", "é", ""]) | st.text(max_size=6)
_MAP = st.dictionaries(_KEYS, _TEXT, max_size=5) | st.dictionaries(_KEYS, _VALUE, max_size=4) \
    | st.fixed_dictionaries({}, optional={k: _TEXT for k in (
        "alertname", "severity", "service", "instance", "summary", "message", "description",
        "runbook_url", "dashboard_url")})
_TIME = st.sampled_from(["2026-11-27T12:29:28Z", "2026-11-27T12:29:28.123+02:00",
                         "0001-01-01T00:00:00Z", "", "2026-11-27T12:29:28", "yesterday",
                         " 2026-11-27T12:29:28Z "]) | st.none() | st.integers(0, 2 ** 31)
_URL = st.sampled_from(["http://prom:9090/graph?g0.expr=up", "/graph", "javascript:x", ""]) \
    | st.none() | st.integers()
_ENTRY = st.fixed_dictionaries({}, optional={
    "status": _WORDS | _VALUE, "labels": _MAP | _VALUE, "annotations": _MAP | _VALUE,
    "fingerprint": _TEXT | _VALUE, "generatorURL": _URL, "startsAt": _TIME, "endsAt": _TIME})


_PLAIN_TEXT = st.sampled_from(["critical", "Warning", "p1", "checkout", " x  y ", "\tdisk\nfull ",
                               "", "x" * 600, "f" * 240, "http://runbooks/x", "/relative"]) \
    | st.text(st.characters(max_codepoint=127, blacklist_characters="\x00"), max_size=8)
_PLAIN_MAP = st.fixed_dictionaries({}, optional={k: _PLAIN_TEXT for k in (
    "alertname", "severity", "service", "job", "instance", "summary", "message", "description",
    "runbook_url", "runbook", "dashboard", "grafana_url")})
# Entries the fast path mostly takes (and some it must refuse).
_PLAIN_ENTRY = st.fixed_dictionaries(
    {"status": st.sampled_from(["firing", "resolved"]), "labels": _PLAIN_MAP},
    optional={"annotations": _PLAIN_MAP, "fingerprint": st.none() | st.sampled_from(
        ["711c95e367dfcd66", " 93909538bba39bb0 ", "f" * 240, "f" * 300, "", "é"]),
              "generatorURL": _URL, "startsAt": _TIME, "endsAt": _TIME})


@settings(max_examples=800, deadline=None)
@given(entry=_PLAIN_ENTRY | _ENTRY | _VALUE, base=st.sampled_from([None, "http://am:9093"]))
def test_plain_entries_parse_as_the_full_path_parses_them(entry, base):
    fast = alertmanager.plain_entry(entry, "alertmanager", base)
    if fast is not None:
        assert fast == alertmanager.full_entry(entry, "alerts[0]", source="alertmanager",
                                               group={}, base=base)


@pytest.mark.parametrize("name", [FIRING, RESOLVED, V3, V4_ALERTA])
def test_real_entries_take_the_plain_path(name):
    body = payload(name)
    for entry in body["alerts"]:
        fast = alertmanager.plain_entry(entry, "alertmanager", "http://vm:19093")
        assert fast is not None
        assert fast == alertmanager.full_entry(entry, "alerts[0]", source="alertmanager",
                                               group=body, base="http://vm:19093")

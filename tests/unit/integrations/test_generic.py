"""Generic JSON webhook: the path/template mapping, its validation and its errors."""

from __future__ import annotations

import hashlib

import pytest

from tocsin.domain.alert import ParseError
from tocsin.integrations.inbound import generic

from .invariants import check_outcome
from .payloads import payload

BODY = {
    "region": "eu-west-1",
    "checks": [
        {"host": "db1", "check": "disk", "state": "CRITICAL", "priority": "P1", "output": "/var 99% full",
         "tags": {"service": "billing", "owner.team": "dba"}, "runbook_url": "https://runbooks.example/disk",
         "dashboard_uid": "abc"},
        {"host": "web2", "check": "http", "state": "OK", "priority": "p3", "output": "200 in 30ms",
         "tags": {}},
    ],
}


def parse(body, options):
    outcome = generic.parse(body, {}, options)
    check_outcome(outcome)
    return outcome.alerts


def test_the_documented_example_maps_each_element():
    first, second = parse(BODY, generic.DEFAULT_OPTIONS_EXAMPLE)
    assert (first.source, first.action, first.dedup_key) == ("generic", "trigger", "db1/disk")
    assert first.summary == "db1: disk is CRITICAL"
    assert (first.severity, first.source_severity) == ("critical", "P1")
    assert (first.service, first.description) == ("billing", "/var 99% full")
    assert first.labels == {"host": "db1", "check": "disk", "region": "eu-west-1", "team": "dba"}
    assert first.links == {"runbook": "https://runbooks.example/disk", "dashboard": "https://grafana.example.com/d/abc"}
    assert (second.action, second.dedup_key, second.severity) == ("resolve", "web2/http", "warning")
    assert second.service is None  # tags.service not found: left empty
    # tags["owner.team"] is missing: the label is left out
    assert second.labels == {"host": "web2", "check": "http", "region": "eu-west-1"}
    assert second.links == {}


def test_example_is_valid():
    assert generic.validate_options(generic.DEFAULT_OPTIONS_EXAMPLE) == []


def test_minimal_mapping_on_the_whole_body_keys_on_the_title():
    (alert,) = parse({"message": "Backup failed"}, {"title": "message"})
    assert (alert.action, alert.summary, alert.severity) == ("trigger", "Backup failed", None)
    assert alert.dedup_key == hashlib.sha256(b"Backup failed").hexdigest()
    assert alert.labels == {} and alert.links == {}


def test_paths_reach_into_lists_and_quoted_members():
    body = {"alert": {"labels": {"host": "h1", "k8s.io/app": "api"}}, "items": [{"id": 7}, {"id": 9}]}
    options = {"title": "{alert.labels.host} / {items[-1].id}", "dedup_key": "items[0].id",
               "labels": {"app": 'alert.labels["k8s.io/app"]', "all": "items"}}
    (alert,) = parse(body, options)
    assert (alert.summary, alert.dedup_key) == ("h1 / 9", "7")
    assert alert.labels == {"app": "api", "all": '[{"id":7},{"id":9}]'}


def test_literal_braces_and_numbers_in_templates():
    (alert,) = parse({"n": 3, "ok": True}, {"title": "{{count}} = {n}, ok={ok}"})
    assert alert.summary == "{count} = 3, ok=true"


@pytest.mark.parametrize(
    ("status", "options", "action"),
    [
        ("resolved", {}, "resolve"),
        ("OK", {}, "resolve"),
        ("ack", {}, "acknowledge"),
        ("firing", {}, "trigger"),
        ("ok", {"resolve_values": []}, "trigger"),  # explicit empty list: never resolves
        ("cleared", {"resolve_values": ["cleared"]}, "resolve"),
        ("taken", {"acknowledge_values": ["TAKEN"]}, "acknowledge"),
        (0, {"resolve_values": [0]}, "resolve"),
        (None, {}, "trigger"),
    ],
)
def test_status_values(status, options, action):
    body = {"title": "t", "status": status}
    (alert,) = parse(body, {"title": "title", "status": "status", **options})
    assert alert.action == action


@pytest.mark.parametrize(
    ("word", "severity_map", "expected"),
    [
        ("high", None, ("critical", "high")),
        ("HIGH", {"high": "error"}, ("error", "HIGH")),
        ("warn", {"high": "error"}, (None, "warn")),  # an explicit map is the whole vocabulary
        ("nonsense", None, (None, "nonsense")),
    ],
)
def test_severity_mapping(word, severity_map, expected):
    options = {"title": "t", "severity": "sev", **({"severity_map": severity_map} if severity_map else {})}
    (alert,) = parse({"t": "x", "sev": word}, options)
    assert (alert.severity, alert.source_severity) == expected


def test_long_dedup_key_is_hashed_and_unsafe_links_dropped():
    body = {"t": "x", "k": "k" * 400, "u": "javascript:alert(1)"}
    (alert,) = parse(body, {"title": "t", "dedup_key": "k", "links": {"evil": "u", "doc": "https://d/{t}"}})
    assert alert.dedup_key == hashlib.sha256(b"k" * 400).hexdigest()
    assert alert.links == {"doc": "https://d/x"}


def test_alertmanager_body_through_the_generic_mapping():
    body = payload("alertmanager-0.25.0/01_webhook_v4_firing.json")
    options = {"alerts_path": "alerts", "title": "annotations.summary", "dedup_key": "fingerprint",
               "severity": "labels.severity", "status": "status", "resolve_values": ["resolved"],
               "service": "labels.service",
               "labels": {"instance": "labels.instance", "receiver": "$.receiver"},
               "links": {"generator": "generatorURL"}}
    first, second = parse(body, options)
    assert (first.dedup_key, second.dedup_key) == ("711c95e367dfcd66", "93909538bba39bb0")
    assert first.labels == {"instance": "checkout-7d9f:8080", "receiver": "all"}
    assert (first.severity, first.service, first.action) == ("critical", "checkout", "trigger")


@pytest.mark.parametrize(
    ("body", "options", "path", "reason"),
    [
        ({}, {"title": "message"}, "message", "no value here (title)"),
        ({"message": None}, {"title": "message"}, "message", "no value here (title)"),
        ({"message": "   "}, {"title": "message"}, "", "title renders empty"),
        ({"a": {"b": 1}}, {"title": "{a.b} on {a.host}"}, "a.host", "no value here (title)"),
        ({"t": "x"}, {"title": "t", "dedup_key": "id"}, "id", "no value here (dedup_key)"),
        ({"list": [{"t": "x"}, {}]}, {"alerts_path": "list", "title": "t"}, "list[1].t",
         "no value here (title)"),
        ({"list": [{"t": "x"}]}, {"alerts_path": "list", "title": "{$.missing}"}, "missing", "(title)"),
        ({}, {"alerts_path": "list", "title": "t"}, "list", "no value here (alerts_path)"),
        ({"list": []}, {"alerts_path": "list", "title": "t"}, "list", "must not be empty"),
        ({"list": {"a": 1}}, {"alerts_path": "list", "title": "t"}, "list", "expected an array"),
        ({"t": "x"}, {}, "options.title", "mapping is invalid: is required"),
        ({"t": "x"}, {"title": "a..b"}, "options.title", "bad path"),
        ({"t": "x"}, "not a mapping", "options", "options must be an object"),
    ],
)
def test_errors_name_the_path(body, options, path, reason):
    with pytest.raises(ParseError) as info:
        generic.parse(body, {}, options)
    assert info.value.path == path
    assert reason in info.value.reason


@pytest.mark.parametrize("body", [None, [], "x", 3, True])
def test_garbage_bodies_miss_the_title(body):
    with pytest.raises(ParseError, match=r"no value here \(title\)"):
        generic.parse(body, {}, {"title": "message"})


@pytest.mark.parametrize(
    ("options", "problems"),
    [
        ({"title": "t"}, []),
        ({}, [("title", "is required")]),
        ([], [("", "options must be an object")]),
        ({"title": "t", "colour": "red"}, [("colour", "unknown option")]),
        ({"title": ""}, [("title", "must be a non-empty string (a path or a template)")]),
        ({"title": 5}, [("title", "must be a non-empty string (a path or a template)")]),
        ({"title": "{a"}, [("title", "unbalanced '{' in template (write {{ for a literal)")]),
        ({"title": "a}"}, [("title", "unbalanced '}' in template (write }} for a literal)")]),
        ({"title": "{}"}, [("title", "empty path")]),
        ({"title": "x[y]"}, [("title", "bad path 'x[y]' at character 2")]),
        ({"title": "t", "alerts_path": "{items}"}, [("alerts_path", "must be a path, not a template")]),
        ({"title": "t", "labels": ["host"]}, [("labels", "must be an object of name → path or template")]),
        ({"title": "t", "labels": {"host": "a..b", "": "x"}},
         [("labels.", "name must not be empty"), ("labels.host", "bad path 'a..b' at character 2")]),
        ({"title": "t", "links": {"doc": 3}},
         [("links.doc", "must be a non-empty string (a path or a template)")]),
        ({"title": "t", "resolve_values": "ok"}, [("resolve_values", "must be a list of strings")]),
        ({"title": "t", "acknowledge_values": [None]}, [("acknowledge_values", "must be a list of strings")]),
        ({"title": "t", "severity_map": {"p1": "urgent"}},
         [("severity_map.p1", "must be one of critical, error, warning, info")]),
        ({"title": "t", "severity_map": "p1=critical"},
         [("severity_map", "must be an object of source word → severity")]),
    ],
)
def test_validate_options(options, problems):
    assert generic.validate_options(options) == problems

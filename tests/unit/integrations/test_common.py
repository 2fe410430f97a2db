"""Shared parser helpers: paths, times, limits, severities, links and the ParseError guard."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from tocsin.domain.alert import ParseError, ParseOutcome
from tocsin.integrations.inbound import common as c


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("a", ("a",)),
        ("alert.labels.host", ("alert", "labels", "host")),
        ("items[0].id", ("items", 0, "id")),
        ("[2]", (2,)),
        ("items[-1]", ("items", -1)),
        ('tags["app.kubernetes.io/name"]', ("tags", "app.kubernetes.io/name")),
        ("Alarm Name.x", ("Alarm Name", "x")),
        ("  padded.path  ", ("padded", "path")),
    ],
)
def test_parse_path(text, parts):
    assert c.parse_path(text) == parts


@pytest.mark.parametrize("text", ["", "   ", "a..b", ".a", "a.", "a[", "a[x]", "a[0]b", 'a["b', "a{b}", None])
def test_parse_path_rejects_malformed(text):
    with pytest.raises(ValueError):
        c.parse_path(text)


BODY = {"a": {"b": [10, {"c": "deep"}], "n": None, "x.y": 1}, "list": [1, 2, 3]}


@pytest.mark.parametrize(
    ("path", "found", "value"),
    [
        ("a.b[0]", True, 10),
        ("a.b[1].c", True, "deep"),
        ("list[-1]", True, 3),
        ('a["x.y"]', True, 1),
        ("a.n", False, None),  # null counts as missing
        ("a.b[5]", False, None),
        ("a.b.c", False, None),  # a member of a list
        ("list[0].x", False, None),  # a member of a number
        ("missing", False, None),
    ],
)
def test_lookup(path, found, value):
    assert c.lookup(BODY, c.parse_path(path)) == (found, value)


def test_path_text_quotes_dotted_members():
    assert c.path_text("alerts[1]", ("labels", "a.b", 0)) == 'alerts[1].labels["a.b"][0]'
    assert c.path_text("", ("x", 2)) == "x[2]"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-27T12:29:28Z", datetime(2026, 11, 27, 12, 29, 28, tzinfo=UTC)),
        ("2016-08-01T13:27:08.008+03:00", datetime(2016, 8, 1, 10, 27, 8, 8000, tzinfo=UTC)),
        ("2019-02-15T23:53:45.093+0000", datetime(2019, 2, 15, 23, 53, 45, 93000, tzinfo=UTC)),
        ("2026-05-05T13:04:57.62281314Z", datetime(2026, 5, 5, 13, 4, 57, 622813, tzinfo=UTC)),
        ("0001-01-01T00:00:00Z", None),  # Go's zero time means "unset"
        (None, None),
        ("", None),
        (1499368214, datetime(2017, 7, 6, 19, 10, 14, tzinfo=UTC)),
        (1566248777.5, datetime(2019, 8, 19, 21, 6, 17, 500000, tzinfo=UTC)),
    ],
)
def test_parse_time(value, expected):
    parsed = c.parse_time(value, "t")
    assert parsed == expected
    assert parsed is None or parsed.tzinfo is UTC


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("yesterday", "not an ISO 8601 timestamp"),
        ("2017-06-30T22:25:43", "no UTC offset"),
        (True, "expected a timestamp, got a boolean"),
        ({"t": 1}, "expected a timestamp, got an object"),
        (1e20, "out of range"),
    ],
)
def test_parse_time_errors_name_the_path(value, reason):
    with pytest.raises(ParseError) as info:
        c.parse_time(value, "alerts[0].startsAt")
    assert reason in info.value.reason
    assert info.value.path == "alerts[0].startsAt"


def test_naive_time_is_utc_only_when_the_source_says_so():
    expected = datetime(2017, 6, 30, 22, 25, 43, tzinfo=UTC)
    assert c.parse_time("2017-06-30T22:25:43", "t", naive_utc=True) == expected


def test_epoch_milliseconds():
    expected = datetime(2020, 9, 25, 11, 23, 27, 849000, tzinfo=UTC)
    assert c.from_epoch(1601033007849, "ts", millis=True) == expected
    with pytest.raises(ParseError, match="expected epoch milliseconds, got a string"):
        c.from_epoch("1601033007849", "ts", millis=True)


def test_fit_key_keeps_short_keys_and_hashes_long_ones():
    assert c.fit_key("  abc ") == "abc"
    assert c.fit_key("k" * 255) == "k" * 255
    long = "k" * 256
    assert c.fit_key(long) == hashlib.sha256(long.encode()).hexdigest()


def test_labels_key_ignores_order():
    assert c.labels_key({"a": "1", "b": "2"}) == c.labels_key({"b": "2", "a": "1"})
    assert c.labels_key({"a": "1"}) != c.labels_key({"a": "2"})


def test_one_line_collapses_and_truncates():
    assert c.one_line(" two\nlines\t here ") == "two lines here"
    cut = c.one_line("x" * 600)
    assert len(cut) == 500 and cut.endswith("…")
    assert c.first_line(None, "  ", "\n", fallback="fallback") == "fallback"
    assert c.first_line("", "second", fallback="f") == "second"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("x", "x"), (True, "true"), (False, "false"), (None, ""), (3, "3"), (1.5, "1.5"),
     ({"b": 1, "a": [1]}, '{"a":[1],"b":1}')],
)
def test_stringify(value, expected):
    assert c.stringify(value) == expected


def test_string_map_drops_nulls_and_stringifies():
    assert c.string_map({"a": 1, "b": None, "c": True}, "labels") == {"a": "1", "c": "true"}
    with pytest.raises(ParseError) as info:
        c.string_map(["a"], "alerts[0].labels")
    assert info.value.path == "alerts[0].labels"


@pytest.mark.parametrize(
    ("word", "expected"),
    [("critical", ("critical", "critical")), ("CRIT", ("critical", "CRIT")), ("warn", ("warning", "warn")),
     ("P3", ("warning", "P3")), ("info", ("info", "info")), ("bogus", (None, "bogus")), ("", (None, None)),
     (None, (None, None)), ({"x": 1}, (None, None))],
)
def test_severity_words(word, expected):
    assert c.severity(word) == expected


@pytest.mark.parametrize(
    ("value", "base", "expected"),
    [
        ("https://x.example/a", None, "https://x.example/a"),
        ("?orgId=1", "https://grafana.example.com/", "https://grafana.example.com/?orgId=1"),
        ("javascript:alert(1)", None, None),
        ("data:text/html,hi", "https://x.example/", None),
        ("/relative", None, None),
        ("", None, None),
        (42, None, None),
        ("http://[::1", None, None),  # unparsable
    ],
)
def test_clean_url(value, base, expected):
    assert c.clean_url(value, base) == expected


def test_make_alert_enforces_limits():
    alert = c.make_alert(source="x", action="trigger", dedup_key="k" * 300, summary="a\nb " * 300,
                         labels={"n": 1}, annotations={"b": False}, description=None)
    assert len(alert.dedup_key) == 64
    assert "\n" not in alert.summary and len(alert.summary) == 500
    assert alert.labels == {"n": "1"} and alert.annotations == {"b": "false"}
    assert alert.description == ""
    assert c.make_alert(source="x", action="trigger", dedup_key="k", summary="  ").summary == "x alert"


def test_make_alert_strips_what_a_database_cannot_store():
    alert = c.make_alert(source="x", action="trigger", dedup_key="k\x00\ud800", summary="a\x00b",
                         labels={"l\x00": "v\ud800"}, service="\x00", source_severity=" P1 ")
    assert (alert.dedup_key, alert.summary, alert.labels) == ("k?", "ab", {"l": "v?"})
    assert (alert.service, alert.source_severity) == (None, "P1")


def test_guard_turns_unexpected_errors_into_parse_errors():
    @c.guarded
    def broken(body, headers, options):
        return body["missing"]

    @c.guarded
    def fine(body, headers, options):
        return ParseOutcome()

    with pytest.raises(ParseError, match="internal parser error: KeyError"):
        broken({}, {}, {})
    assert fine(None, None, None) == ParseOutcome()


@pytest.mark.parametrize(
    ("call", "path", "reason"),
    [
        (lambda: c.expect_object([], "data"), "data", "expected an object, got an array"),
        (lambda: c.expect_list({}, "alerts"), "alerts", "expected an array, got an object"),
        (lambda: c.expect_list([], "alerts", non_empty=True), "alerts", "must not be empty"),
        (lambda: c.req_str({"a": 1}, "a", "x"), "x.a", "expected a string, got a number"),
        (lambda: c.req_str({"a": "  "}, "a", ""), "a", "is required"),
        (lambda: c.req_id({"id": True}, "id", "e"), "e.id", "expected a string, got a boolean"),
        (lambda: c.choice({"s": "maybe"}, "s", "a[0]", {"yes": 1}), "a[0].s", "unknown value 'maybe'"),
    ],
)
def test_typed_access_errors(call, path, reason):
    with pytest.raises(ParseError) as info:
        call()
    assert info.value.path == path
    assert reason in info.value.reason

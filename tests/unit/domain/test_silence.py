"""Silences and maintenance windows: state over time, which one decides, and validation."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tocsin.domain.matchers import Matcher, parse_matchers
from tocsin.domain.silence import Silence, SilenceDecision, decide, validate

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
T1 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
DB = parse_matchers('{service="db"}', "m")


def silence(id_=12, matchers=DB, start=T0, end=T1, kind="silence", who="alice", why="db failover drill"):
    return Silence(id_, matchers, start, end, who, why, kind)


@pytest.mark.parametrize(
    ("now", "state"),
    [
        (T0 - timedelta(seconds=1), "pending"),
        (T0, "active"),
        (T1 - timedelta(microseconds=1), "active"),
        (T1, "expired"),
        (T1 + timedelta(days=3), "expired"),
        (datetime(2026, 3, 2, 10, 30, tzinfo=timezone(timedelta(hours=1))), "active"),  # 09:30 UTC
    ],
)
def test_state(now, state):
    assert silence().state(now) == state


def test_active_matching_silence_mutes_with_reason():
    d = decide([silence()], {"service": "db", "env": "prod"}, T0 + timedelta(minutes=5))
    assert d == SilenceDecision(
        True, 12, 'silenced by silence #12 (alice: "db failover drill") until 2026-03-02T10:00:00Z'
    )


def test_maintenance_window_wording_and_utc_rendering():
    end = datetime(2026, 3, 2, 11, 0, 30, 999, tzinfo=timezone(timedelta(hours=1)))
    s = silence(3, kind="maintenance", end=end, who="ops", why="kernel upgrade")
    d = decide([s], {"service": "db"}, T0)
    assert d.silenced and d.silence_id == 3
    assert d.reason == 'in maintenance window #3 (ops: "kernel upgrade") until 2026-03-02T10:00:30Z'


@pytest.mark.parametrize(
    ("silences", "labels", "now", "expected_id"),
    [
        ([silence()], {"service": "web"}, T0, None),
        ([silence()], {}, T0, None),
        ([silence()], {"service": "db"}, T0 - timedelta(minutes=1), None),  # pending
        ([silence()], {"service": "db"}, T1, None),  # expired exactly at ends_at
        ([silence(1, end=T0 + timedelta(minutes=1)), silence(2)], {"service": "db"},
         T0 + timedelta(minutes=2), 2),
        ([silence(1), silence(2)], {"service": "db"}, T0, 1),  # first active match wins
        ([silence(1, parse_matchers(["service=db", "env=dev"], "m")), silence(2)],
         {"service": "db", "env": "prod"}, T0, 2),  # every matcher must match
        ([silence(1, ())], {"service": "db"}, T0, None),  # a matcher-less silence never mutes
        ([], {"service": "db"}, T0, None),
    ],
)
def test_decide_picks_first_active_match(silences, labels, now, expected_id):
    d = decide(silences, labels, now)
    assert d.silence_id == expected_id
    assert d.silenced is (expected_id is not None)
    if expected_id is None:
        assert d.reason == "no active silence matches"
    else:
        assert f"#{expected_id} " in d.reason


def test_decide_accepts_any_iterable():
    assert decide(iter([silence()]), {"service": "db"}, T0).silenced


NAIVE = datetime(2026, 3, 2, 8, 0)


@pytest.mark.parametrize(
    ("matchers", "start", "end", "comment", "errors"),
    [
        (DB, T0, T1, "drill", []),
        ((), T0, T1, "drill", [("matchers", "at least one matcher is required")]),
        ((Matcher("env", "=~", ".*"),), T0, T1, "drill", [("matchers", "must not match the empty string")]),
        ((Matcher("env", "=", ""), Matcher("team", "!=", "x")), T0, T1, "drill",
         [("matchers", "would match every alert")]),
        ((Matcher("env", "=~", ".*"), Matcher("service", "=", "db")), T0, T1, "drill", []),
        ((Matcher("env", "=~", ".+"),), T0, T1, "drill", []),
        (DB, T1, T0, "drill", [("ends_at", "must be after starts_at")]),
        (DB, T0, T0, "drill", [("ends_at", "must be after starts_at")]),
        (DB, T0, T1, "  ", [("comment", "required")]),
        (DB, T0, T1, "", [("comment", "required")]),
        (DB, NAIVE, T1, "drill", [("starts_at", "time zone")]),
        (DB, T0, NAIVE, "drill", [("ends_at", "time zone")]),
        ((), NAIVE, NAIVE, "", [("matchers", "required"), ("starts_at", "time zone"),
                                ("ends_at", "time zone"), ("comment", "required")]),
    ],
)
def test_validate(matchers, start, end, comment, errors):
    got = validate(matchers, start, end, comment)
    assert [e.field for e in got] == [f for f, _ in errors]
    for e, (_, text) in zip(got, errors, strict=True):
        assert text in e.message

"""On-call schedules: rotations on the wall clock, layers, restrictions, overrides, the final
view and its gaps — with property tests over many time zones and two years of daylight-saving
changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tocsin.domain import schedule as sch

LONDON = "Europe/London"


def sched(tz=LONDON, *layers):
    return sch.Schedule("s", tz, tuple(layers))


def layer(members, days=1, handoff=time(9), start=date(2026, 3, 23), windows=(), name="L"):
    return sch.Layer(name, days, handoff, start, tuple(members), tuple(windows))


def at(s, tz=LONDON):
    return datetime.fromisoformat(s).replace(tzinfo=ZoneInfo(tz))


def test_daily_rotation_hands_off_at_the_local_time_across_the_clock_change():
    s = sched(LONDON, layer([1, 2, 3]))
    # Sunday 2026-03-29 is the spring-forward day in London (01:00 → 02:00).
    # shifts from 09:00 on the 23rd: 1, 2, 3, 1, 2 (the 27th), 3 (28th), 1 (29th)
    assert sch.on_call(s, [], at("2026-03-28T08:59")).user_id == 2
    assert sch.on_call(s, [], at("2026-03-28T09:00")).user_id == 3
    assert sch.on_call(s, [], at("2026-03-29T09:00")).user_id == 1
    assert sch.on_call(s, [], at("2026-03-30T08:59")).user_id == 1
    [a, b] = sch.shifts(s, [], at("2026-03-29T00:00"), at("2026-03-30T00:00"))
    assert (a.user_id, b.user_id) == (3, 1)
    # the day is 23 hours long; the handoff is still at 09:00 local = 08:00 UTC (BST)
    assert b.start == datetime(2026, 3, 29, 8, 0, tzinfo=UTC)


def test_before_the_first_handoff_nobody_is_on_call():
    s = sched(LONDON, layer([1]))
    assert sch.on_call(s, [], at("2026-03-23T08:59")) == sch.OnCall(None, "")


def test_higher_layers_sit_on_top_and_restrictions_leave_the_rest_to_lower_ones():
    weekdays = sch.Window((0, 1, 2, 3, 4), time(9), time(17))
    s = sched(LONDON, layer([1], days=7, name="base"),
              layer([2, 3], days=7, windows=[weekdays], name="office"))
    assert sch.on_call(s, [], at("2026-03-24T10:00")) == sch.OnCall(2, "office")   # Tuesday
    assert sch.on_call(s, [], at("2026-03-24T18:00")) == sch.OnCall(1, "base")
    assert sch.on_call(s, [], at("2026-03-28T10:00")) == sch.OnCall(1, "base")     # Saturday
    assert sch.on_call(s, [], at("2026-03-31T10:00")) == sch.OnCall(3, "office")   # next week


def test_a_window_past_midnight_and_follow_the_sun():
    night = sch.Window((0, 1, 2, 3, 4, 5, 6), time(21), time(9))
    s = sched(LONDON, layer([7], windows=[night]))
    assert sch.on_call(s, [], at("2026-03-24T23:00")).user_id == 7
    assert sch.on_call(s, [], at("2026-03-25T08:59")).user_id == 7
    assert sch.on_call(s, [], at("2026-03-25T09:00")).user_id is None
    [gap] = sch.gaps(s, [], at("2026-03-25T00:00"), at("2026-03-26T00:00"))
    assert (gap.start, gap.end) == (at("2026-03-25T09:00"), at("2026-03-25T21:00"))


def test_overrides_win_and_the_latest_one_first():
    s = sched(LONDON, layer([1]))
    o1 = sch.Override(5, at("2026-03-24T12:00"), at("2026-03-24T18:00"))
    o2 = sch.Override(6, at("2026-03-24T14:00"), at("2026-03-24T15:00"))
    view = sch.shifts(s, [o1, o2], at("2026-03-24T10:00"), at("2026-03-24T20:00"))
    assert [(x.user_id, x.source, x.start.hour, x.end.hour) for x in view] == [
        (1, "L", 10, 12), (5, "override", 12, 14), (6, "override", 14, 15),
        (5, "override", 15, 18), (1, "L", 18, 20)]


def test_parse_reports_every_problem_with_its_path():
    _, errors = sch.parse({"name": "", "time_zone": "Mars/Olympus", "layers": [
        {"rotation": "hourly", "handoff": "9am", "start": "soon", "members": []},
        {"rotation": "custom", "start": "2026-01-01", "members": [1],
         "restrictions": [{"days": ["funday"], "start": "09:00", "end": "17:00"}]}]})
    assert [e.field for e in errors] == [
        "name", "time_zone", "layers[0].rotation", "layers[0].handoff", "layers[0].start",
        "layers[0].members", "layers[1].length_days", "layers[1].restrictions[0].days"]
    ok, errors = sch.parse({"name": "x", "time_zone": "Asia/Tokyo", "layers": [
        {"rotation": "weekly", "handoff": "10:30", "start": "2026-01-05", "members": [3, 4],
         "restrictions": [{"days": ["mon"], "start": "09:00", "end": "24:00"}]}]})
    assert errors == [] and sch.parse(sch.as_dict(ok))[0] == ok


# --- properties over time zones and daylight-saving changes ---------------------------------

ZONES = sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/",
                                                                                 "SystemV/")))


@settings(max_examples=400, deadline=None)
@given(zone=st.sampled_from(ZONES),
       start=st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)),
       days=st.sampled_from([1, 7, 3]), members=st.integers(1, 5),
       handoff=st.sampled_from([time(0), time(2, 30), time(9), time(17, 45)]),
       offset_days=st.integers(0, 700), span_days=st.integers(1, 40))
def test_the_final_view_is_a_partition_that_agrees_with_on_call(zone, start, days, members,
                                                                handoff, offset_days,
                                                                span_days):
    s = sched(zone, layer(list(range(1, members + 1)), days=days, handoff=handoff, start=start))
    lo = datetime.combine(start, time(0), ZoneInfo(zone)).astimezone(UTC) \
        + timedelta(days=offset_days, hours=7)
    hi = lo + timedelta(days=span_days)
    view = sch.shifts(s, [], lo, hi)
    assert view[0].start == lo and view[-1].end == hi
    for a, b in zip(view, view[1:], strict=False):
        assert a.end == b.start and a.user_id != b.user_id   # contiguous, merged
    for x in view:
        assert x.start < x.end
        for instant in (x.start, x.end - timedelta(seconds=1), x.start + (x.end - x.start) / 2):
            assert sch.on_call(s, [], instant).user_id == x.user_id
    tz = ZoneInfo(zone)
    for x in view[1:]:
        local = x.start.astimezone(tz)
        # every handoff is at the handoff wall time, unless that time did not exist that
        # day (skipped by a spring-forward change): then just after the gap
        if local.time() != handoff:
            naive = datetime.combine(local.date(), handoff)
            assert naive.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).time() != handoff


@settings(max_examples=60, deadline=None)
@given(zone=st.sampled_from(ZONES), start=st.dates(min_value=date(2026, 1, 1),
                                                    max_value=date(2027, 12, 31)))
def test_members_take_turns_in_order_day_after_day(zone, start):
    s = sched(zone, layer([1, 2, 3], handoff=time(12), start=start))
    tz = ZoneInfo(zone)
    seen = [sch.on_call(s, [], datetime.combine(start + timedelta(days=d), time(12, 30), tz)
                        .astimezone(UTC)).user_id for d in range(9)]
    assert seen == [1, 2, 3, 1, 2, 3, 1, 2, 3]


@pytest.mark.parametrize("zone, day", [("America/New_York", date(2026, 11, 1)),
                                       ("Australia/Sydney", date(2026, 4, 5)),
                                       ("Europe/London", date(2026, 10, 25))])
def test_fall_back_days_are_25_hours_and_handoffs_stay_put(zone, day):
    s = sched(zone, layer([1, 2], handoff=time(9), start=day - timedelta(days=10)))
    tz = ZoneInfo(zone)
    lo = datetime.combine(day - timedelta(days=1), time(9), tz).astimezone(UTC)
    view = sch.shifts(s, [], lo, lo + timedelta(hours=30))
    # the shift that spans the change is one whole local day: 25 hours, 09:00 to 09:00
    assert view[0].end - view[0].start == timedelta(hours=25)
    assert view[0].end.astimezone(tz).time() == time(9)


def test_a_handoff_in_the_spring_gap_happens_when_the_clock_jumps_past_it():
    # Denver, 2026-03-08: 02:00 MST jumps to 03:00 MDT, so 02:30 never shows on the clock
    s = sched("America/Denver", layer([1, 2], handoff=time(2, 30), start=date(2026, 3, 1)))
    gap_end = datetime(2026, 3, 8, 9, 0, tzinfo=UTC)      # 03:00 MDT
    assert sch.on_call(s, [], gap_end - timedelta(seconds=1)).user_id == 1
    assert sch.on_call(s, [], gap_end).user_id == 2
    edges = [x.start for x in sch.shifts(s, [], gap_end - timedelta(hours=3),
                                         gap_end + timedelta(hours=3))]
    assert gap_end in edges


def test_a_handoff_in_the_repeated_autumn_hour_happens_once():
    # New York, 2026-11-01: 01:00–02:00 happens twice (EDT, then EST)
    s = sched("America/New_York", layer([1, 2], handoff=time(1, 30), start=date(2026, 10, 25)))
    first = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)       # 01:30 EDT
    view = sch.shifts(s, [], first - timedelta(hours=1), first + timedelta(hours=3))
    assert [(x.user_id, x.start) for x in view] == [(1, first - timedelta(hours=1)), (2, first)]
    assert sch.on_call(s, [], first + timedelta(hours=1, minutes=10)).user_id == 2  # 01:40 EST


@settings(max_examples=300, deadline=None)
@given(zone=st.sampled_from(ZONES),
       start=st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)),
       open_=st.sampled_from([time(0), time(1, 30), time(2, 30), time(9), time(21)]),
       close=st.sampled_from([time(0), time(2), time(3), time(17), time(9)]),
       days=st.lists(st.integers(0, 6), min_size=1, max_size=7, unique=True),
       offset_days=st.integers(0, 700))
def test_restricted_layers_partition_and_agree_too(zone, start, open_, close, days, offset_days):
    window = sch.Window(tuple(sorted(days)), open_, close)
    s = sched(zone, layer([1], days=7, name="base"),
              layer([2, 3], handoff=time(2, 30), start=start, windows=[window], name="top"))
    lo = datetime.combine(start, time(0), ZoneInfo(zone)).astimezone(UTC) \
        + timedelta(days=offset_days)
    view = sch.shifts(s, [], lo, lo + timedelta(days=9))
    for a, b in zip(view, view[1:], strict=False):
        assert a.end == b.start
    for x in view:
        for instant in (x.start, x.end - timedelta(seconds=1), x.start + (x.end - x.start) / 2):
            got = sch.on_call(s, [], instant)
            assert (got.user_id, got.source) == (x.user_id, x.source)


def test_notices_due_for_handoffs_to_someone_new_and_gaps():
    from tocsin.domain.schedule import Shift, notices_due

    now = datetime(2026, 3, 2, 8, 50, tzinfo=UTC)
    at = [now + timedelta(minutes=m) for m in (0, 10, 20, 600, 720, 2000)]
    view = [Shift(1, now - timedelta(hours=1), at[1], "l"),   # Ann now
            Shift(2, at[1], at[2], "l"),                      # Ben in 10 min: a handoff
            Shift(2, at[2], at[3], "l"),                      # Ben goes on: nothing
            Shift(None, at[3], at[4], "l"),                   # a gap later today
            Shift(1, at[4], at[5], "l")]                      # Ann in 12 h: not yet
    assert notices_due(view, now) == [("shift", 1), ("gap", 3)]

"""Business-hours calendars: parsing, holidays, explanations, and DST-proof next_open/next_close."""

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import holidays
import pytest

from tocsin.domain.business_hours import (
    Calendar,
    explain,
    is_open,
    next_close,
    next_open,
    parse_calendar,
)
from tocsin.domain.conditions import ConditionError

LONDON_SPEC = {
    "name": "london-office",
    "time_zone": "Europe/London",
    "hours": {"mon-fri": "09:00-17:30"},
    "holidays": {"country": "GB", "subdivision": "ENG"},
    "closed": [date(2026, 12, 24)],
}
LONDON = parse_calendar(LONDON_SPEC, "calendars[0]")
MON_FRI = tuple((d, time(9), time(17, 30)) for d in range(5))


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def local(zone, *args):
    return datetime(*args, tzinfo=ZoneInfo(zone))


# --- parsing -----------------------------------------------------------------


def test_parse_example():
    assert LONDON == Calendar(
        "london-office", "Europe/London", MON_FRI, "GB", "ENG", (date(2026, 12, 24),)
    )


@pytest.mark.parametrize(
    ("hours", "weekly"),
    [
        ({"mon": "09:00-17:00"}, ((0, time(9), time(17)),)),
        ({"weekend": "10:00 - 14:00"}, ((5, time(10), time(14)), (6, time(10), time(14)))),
        ({"weekdays": "9:00-17:00"}, tuple((d, time(9), time(17)) for d in range(5))),
        ({"daily": "00:00-24:00"}, tuple((d, time(0), time(0)) for d in range(7))),
        ({"fri-mon": "20:00-24:00"}, tuple((d, time(20), time(0)) for d in (0, 4, 5, 6))),
        ({"Tue, Thu": "08:00-12:00"}, ((1, time(8), time(12)), (3, time(8), time(12)))),
        ({"sat": ["08:00-12:00", "13:00-17:00"]}, ((5, time(8), time(12)), (5, time(13), time(17)))),
        ({"mon-fri": "09:00-12:00", "wed": "12:00-18:00"},
         tuple((d, time(9), time(12)) for d in range(5)) + ((2, time(12), time(18)),)),
    ],
)
def test_parse_hours_forms(hours, weekly):
    cal = parse_calendar({"name": "c", "time_zone": "UTC", "hours": hours}, "c")
    assert cal.weekly == tuple(sorted(weekly))
    assert (cal.country, cal.subdivision, cal.extra_closed) == (None, None, ())


@pytest.mark.parametrize(
    ("changes", "country", "subdivision", "closed"),
    [
        ({"holidays": "us"}, "US", None, ()),
        ({"holidays": {"country": "au", "subdivision": "nsw"}}, "AU", "NSW", ()),
        ({"holidays": None, "closed": ["2026-12-31", date(2026, 12, 24), "2026-12-31"]},
         None, None, (date(2026, 12, 24), date(2026, 12, 31))),
    ],
)
def test_parse_holidays_and_closed(changes, country, subdivision, closed):
    cal = parse_calendar({**LONDON_SPEC, "holidays": None, "closed": None, **changes}, "c")
    assert (cal.country, cal.subdivision, cal.extra_closed) == (country, subdivision, closed)


def _without(key):
    return {k: v for k, v in LONDON_SPEC.items() if k != key}


@pytest.mark.parametrize(
    ("spec", "path", "message"),
    [
        ([], "cal", "a calendar is a mapping"),
        ({**LONDON_SPEC, "timezone": "UTC"}, "cal", "unknown key(s): timezone"),
        (_without("name"), "cal.name", "required"),
        (_without("time_zone"), "cal.time_zone", "required"),
        ({**LONDON_SPEC, "time_zone": "Europe/Londn"}, "cal.time_zone", "unknown time zone 'Europe/Londn'"),
        ({**LONDON_SPEC, "time_zone": "../etc/passwd"}, "cal.time_zone", "unknown time zone"),
        ({**LONDON_SPEC, "time_zone": "America"}, "cal.time_zone", "unknown time zone"),
        (_without("hours"), "cal.hours", "required"),
        ({**LONDON_SPEC, "hours": {}}, "cal.hours", "required"),
        ({**LONDON_SPEC, "hours": {"monday": "09:00-17:00"}}, "cal.hours.monday", "unknown day 'monday'"),
        ({**LONDON_SPEC, "hours": {"mon-xyz": "09:00-17:00"}}, "cal.hours.mon-xyz", "unknown day"),
        ({**LONDON_SPEC, "hours": {1: "09:00-17:00"}}, "cal.hours.1", "a day key is text"),
        ({**LONDON_SPEC, "hours": {"mon": "9-17"}}, "cal.hours.mon", 'expected hours like "09:00-17:30"'),
        ({**LONDON_SPEC, "hours": {"mon": 540}}, "cal.hours.mon", "HH:MM-HH:MM"),
        ({**LONDON_SPEC, "hours": {"mon": []}}, "cal.hours.mon", "non-empty list"),
        ({**LONDON_SPEC, "hours": {"mon": ["08:00-09:00", 5]}}, "cal.hours.mon[1]", "expected hours like"),
        ({**LONDON_SPEC, "hours": {"mon": "17:00-09:00"}}, "cal.hours.mon", "start must be before the end"),
        ({**LONDON_SPEC, "hours": {"mon": "09:00-09:00"}}, "cal.hours.mon", "start must be before the end"),
        ({**LONDON_SPEC, "hours": {"mon": "09:00-24:30"}}, "cal.hours.mon", "not a time of day"),
        ({**LONDON_SPEC, "hours": {"mon": "24:00-24:00"}}, "cal.hours.mon", "not a time of day"),
        ({**LONDON_SPEC, "hours": {"mon": "09:60-10:00"}}, "cal.hours.mon", "not a time of day"),
        ({**LONDON_SPEC, "hours": {"mon-fri": "09:00-17:00", "wed": "16:00-18:00"}}, "cal.hours.wed",
         "wed overlaps the hours given at cal.hours.mon-fri"),
        ({**LONDON_SPEC, "hours": {"sat": ["08:00-12:00", "11:00-13:00"]}}, "cal.hours.sat[1]",
         "overlaps the hours given at cal.hours.sat[0]"),
        ({**LONDON_SPEC, "holidays": {"country": "XX"}}, "cal.holidays.country", "unknown country 'XX'"),
        ({**LONDON_SPEC, "holidays": {"subdivision": "ENG"}}, "cal.holidays.country", "unknown country None"),
        ({**LONDON_SPEC, "holidays": {"country": "GB", "subdivision": "ZZZ"}}, "cal.holidays.subdivision",
         "unknown subdivision 'ZZZ' of GB; known: ENG, NIR, SCT, WLS"),
        ({**LONDON_SPEC, "holidays": {"country": "GB", "region": "ENG"}}, "cal.holidays",
         "unknown key(s): region"),
        ({**LONDON_SPEC, "holidays": ["GB"]}, "cal.holidays", "a mapping like"),
        ({**LONDON_SPEC, "closed": "2026-12-24"}, "cal.closed", "a list of dates"),
        ({**LONDON_SPEC, "closed": [date(2026, 1, 1), "24/12/2026"]}, "cal.closed[1]", "expected a date"),
        ({**LONDON_SPEC, "closed": [datetime(2026, 12, 24, 9)]}, "cal.closed[0]", "expected a date"),
        ({**LONDON_SPEC, "closed": [20261224]}, "cal.closed[0]", "expected a date"),
    ],
)
def test_parse_errors_are_precise(spec, path, message):
    with pytest.raises(ConditionError) as err:
        parse_calendar(spec, "cal")
    assert err.value.path == path
    assert message in err.value.message


# --- concrete answers ----------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "open_", "text"),
    [
        (utc(2026, 3, 2, 10), True, "open (Mon 09:00–17:30 Europe/London)"),
        (utc(2026, 3, 2, 8, 59), False,
         "closed: outside business hours (opens Mon 2026-03-02 09:00 Europe/London)"),
        (utc(2026, 2, 28, 12), False,
         "closed: outside business hours (opens Mon 2026-03-02 09:00 Europe/London)"),
        (utc(2026, 6, 1, 8, 30), True, "open (Mon 09:00–17:30 Europe/London)"),  # 09:30 BST
        (utc(2026, 6, 1, 16, 30), False,
         "closed: outside business hours (opens Tue 2026-06-02 09:00 Europe/London)"),  # 17:30 BST
        (utc(2026, 12, 25, 12), False, 'closed: public holiday "Christmas Day" (GB-ENG)'),
        (utc(2026, 12, 24, 12), False, "closed: 2026-12-24 is a closed day for london-office"),
        (utc(2026, 4, 3, 12), False, 'closed: public holiday "Good Friday" (GB-ENG)'),
        (datetime(2026, 3, 2, 23, tzinfo=timezone(timedelta(hours=-10))), True,
         "open (Tue 09:00–17:30 Europe/London)"),  # 09:00 Tue in London
    ],
)
def test_is_open_and_explain(at, open_, text):
    assert is_open(LONDON, at) is open_
    assert explain(LONDON, at) == text


def test_holiday_closes_the_local_day_not_the_utc_day():
    # 2026-12-25 00:30 in Sydney is still 24 December in UTC.
    cal = Calendar("syd", "Australia/Sydney", tuple((d, time(0), time(0)) for d in range(7)), "AU", "NSW")
    assert not is_open(cal, utc(2026, 12, 24, 13, 30))
    assert is_open(cal, utc(2026, 12, 24, 12, 30))  # 23:30 on the 24th in Sydney
    assert explain(cal, utc(2026, 12, 24, 13, 30)) == 'closed: public holiday "Christmas Day" (AU-NSW)'


@pytest.mark.parametrize(
    ("weekly", "zone", "at", "opens", "closes"),
    [
        # London spring forward (01:00 GMT -> 02:00 BST): 01:30 never happens; opens at the jump.
        (((6, time(1, 30), time(2, 30)),), "Europe/London", utc(2026, 3, 29, 0, 30),
         utc(2026, 3, 29, 1), utc(2026, 3, 29, 1, 30)),
        # London fall back: 01:00-01:30 happens twice, so it reopens after the jump.
        (((6, time(1), time(1, 30)),), "Europe/London", utc(2026, 10, 25, 0, 40),
         utc(2026, 10, 25, 1), utc(2026, 10, 25, 1, 30)),
        (((6, time(1), time(1, 30)),), "Europe/London", utc(2026, 10, 24, 12),
         utc(2026, 10, 25, 0), utc(2026, 10, 25, 0, 30)),
        # New York: 02:00-02:30 falls wholly in the gap, so that Sunday never opens.
        (((6, time(2), time(2, 30)),), "America/New_York", utc(2026, 3, 8, 6),
         utc(2026, 3, 15, 6), utc(2026, 3, 15, 6, 30)),
        # Sao Paulo 2018: the day of 4 November began at 01:00.
        (((6, time(0), time(2)),), "America/Sao_Paulo", utc(2018, 11, 3, 15),
         utc(2018, 11, 4, 3), utc(2018, 11, 4, 4)),
        # Sydney fall back (03:00 AEDT -> 02:00 AEST): 02:00-02:30 local occurs twice.
        (((6, time(2), time(2, 30)),), "Australia/Sydney", utc(2026, 4, 4, 15, 45),
         utc(2026, 4, 4, 16, 0), utc(2026, 4, 4, 16, 30)),
        # Kolkata has a half-hour offset and no DST.
        (MON_FRI, "Asia/Kolkata", utc(2026, 3, 6, 12), utc(2026, 3, 9, 3, 30), utc(2026, 3, 9, 12)),
        # Open until 24:00 then from 00:00: one long stretch over midnight.
        (((0, time(20), time(0)), (1, time(0), time(6))), "UTC", utc(2026, 3, 2, 12),
         utc(2026, 3, 2, 20), utc(2026, 3, 3, 6)),
    ],
)
def test_next_open_and_close_across_dst(weekly, zone, at, opens, closes):
    cal = Calendar("c", zone, weekly)
    assert not is_open(cal, at) and next_close(cal, at) is None
    got = next_open(cal, at)
    assert got == opens and got.tzinfo is UTC
    assert next_close(cal, got) == closes


def test_range_to_midnight_closes_at_the_next_days_start():
    cal = Calendar("c", "Europe/London", ((0, time(20), time(0)),))
    assert next_close(cal, utc(2026, 3, 2, 21)) == utc(2026, 3, 3)
    assert next_close(cal, utc(2026, 6, 1, 21)) == utc(2026, 6, 1, 23)  # 00:00 BST
    assert explain(cal, utc(2026, 3, 2, 23, 59)) == "open (Mon 20:00–24:00 Europe/London)"


def test_offset_change_exactly_a_whole_number_of_days_after_at():
    # London springs forward at 2026-03-29 01:00 UTC, one day after `at`: the scan's second
    # day window starts on the jump itself, which must still be seen.
    cal = Calendar("c", "Europe/London", ((6, time(1, 30), time(2, 30)),))
    assert next_open(cal, utc(2026, 3, 28, 1)) == utc(2026, 3, 29, 1)


def test_a_jump_just_after_a_scan_window_is_not_skipped():
    # New York springs forward at 07:00 UTC on 8 March 2026 and 03:00 EDT is already open;
    # 02:15 EST (07:15 UTC) lies later, beyond the first day-long window after `at`.
    cal = Calendar("c", "America/New_York", ((6, time(2, 15), time(4)),))
    assert next_open(cal, utc(2026, 3, 7, 4)) == utc(2026, 3, 8, 7)


def test_an_opening_most_of_a_year_away_is_found():
    mondays = tuple(date(2026, 1, 5) + timedelta(weeks=w) for w in range(45))
    cal = Calendar("c", "UTC", ((0, time(9), time(10)),), extra_closed=mondays)
    assert next_open(cal, utc(2026, 1, 1)) == utc(2026, 11, 16, 9)


def test_sydney_fall_back_opens_twice_in_one_night():
    cal = Calendar("c", "Australia/Sydney", ((6, time(2), time(2, 30)),))
    first_close = utc(2026, 4, 4, 15, 30)  # 02:30 AEDT
    assert next_close(cal, utc(2026, 4, 4, 15, 10)) == first_close
    assert next_open(cal, first_close) == utc(2026, 4, 4, 16)  # 02:00 AEST, the second time


def test_open_now_returns_at_as_utc_and_close_skips_holidays_at_midnight():
    cal = Calendar("c", "Europe/London", tuple((d, time(0), time(0)) for d in range(7)), "GB", "ENG")
    at = datetime(2026, 12, 24, 12, tzinfo=timezone(timedelta(hours=2)))
    got = next_open(cal, at)
    assert got == at and got.tzinfo is UTC
    assert next_close(cal, at) == utc(2026, 12, 25)
    assert next_open(cal, utc(2026, 12, 25, 3)) == utc(2026, 12, 27)  # Boxing Day is the 26th
    assert next_close(Calendar("c", "UTC", cal.weekly), at) is None  # never closes within a year


def test_never_open_raises():
    with pytest.raises(ValueError, match="no weekly hours"):
        next_open(Calendar("empty", "UTC", ()), utc(2026, 1, 1))
    mondays = tuple(date(2026, 1, 5) + timedelta(weeks=w) for w in range(60))
    cal = Calendar("blocked", "UTC", ((0, time(9), time(10)),), extra_closed=mondays)
    with pytest.raises(ValueError, match="does not open within"):
        next_open(cal, utc(2026, 1, 1))
    assert explain(cal, utc(2026, 1, 1)) == "closed: outside business hours (no opening within a year)"


@pytest.mark.parametrize("fn", [is_open, next_open, next_close, explain])
def test_naive_datetimes_are_refused(fn):
    with pytest.raises(ValueError, match="timezone-aware"):
        fn(LONDON, datetime(2026, 3, 2, 10))


# --- invariants over two years and five zones ----------------------------------

ZONES = [
    ("Europe/London", "GB", "ENG"),
    ("America/New_York", "US", "NY"),
    ("Australia/Sydney", "AU", "NSW"),
    ("Asia/Kolkata", "IN", None),
    ("America/Sao_Paulo", "BR", None),  # had midnight DST changes until 2019
]
# Edges chosen to sit on DST changes: 00:00-03:00 on Sundays and late Saturday nights.
WEEKLY = (
    *((d, time(9), time(17, 30)) for d in (0, 1, 2, 4)),
    (3, time(9), time(0)),  # Thursday runs to midnight; Friday has no edge at 00:00
    (5, time(1, 30), time(2, 30)),
    (5, time(22), time(0)),
    (6, time(0), time(1, 30)),
    (6, time(2, 15), time(3)),
    (6, time(12), time(13)),
)
EXTRA = (date(2018, 7, 7), date(2019, 3, 9), date(2019, 12, 31))
START, END = utc(2018, 1, 1), utc(2020, 1, 1)


def calendar_for(zone, country, subdivision):
    return Calendar(f"cal-{zone}", zone, WEEKLY, country, subdivision, EXTRA)


def reference(zone, country, subdivision):
    """is_open written the obvious way: local wall time in minutes against plain lists."""
    tz = ZoneInfo(zone)
    closed = set(holidays.country_holidays(country, subdiv=subdivision, years=[2017, 2018, 2019, 2020]))
    closed |= set(EXTRA)
    by_day = {d: [] for d in range(7)}
    for wd, start, end in WEEKLY:
        by_day[wd].append((start.hour * 60 + start.minute, end.hour * 60 + end.minute or 1440))

    def open_at(at):
        wall = at.astimezone(tz)
        minute = wall.hour * 60 + wall.minute + wall.second / 60
        return wall.date() not in closed and any(lo <= minute < hi for lo, hi in by_day[wall.weekday()])

    return open_at


def offset_changes(zone):
    tz, found, at = ZoneInfo(zone), [], START
    while at < END:
        if (at + timedelta(hours=1)).astimezone(tz).utcoffset() != at.astimezone(tz).utcoffset():
            minute = at
            while minute.astimezone(tz).utcoffset() == at.astimezone(tz).utcoffset():
                minute += timedelta(minutes=1)
            found.append(minute)
        at += timedelta(hours=1)
    return found


@pytest.mark.parametrize(("zone", "country", "subdivision"), ZONES)
def test_is_open_agrees_with_reference(zone, country, subdivision):
    cal, ref = calendar_for(zone, country, subdivision), reference(zone, country, subdivision)
    at, checked, opened = START, 0, 0
    while at < END:
        assert is_open(cal, at) == ref(at), at
        opened += ref(at)
        checked += 1
        at += timedelta(minutes=25)
    assert checked > 40_000 and 0.15 < opened / checked < 0.5  # the sample saw both states


def sample_starts(zone):
    """Every day of two years at wall times around the edges, some in DST gaps or folds."""
    tz, day = ZoneInfo(zone), START.date()
    walls = [time(0), time(1, 45), time(2, 40), time(8, 59, 30), time(12, 30), time(17, 30), time(23, 30)]
    while day < END.date():
        for wall in walls:
            # In UTC: arithmetic on zone-aware datetimes is wall-clock arithmetic.
            yield datetime.combine(day, wall, tzinfo=tz).astimezone(UTC)
        day += timedelta(days=1)


@pytest.mark.parametrize(("zone", "country", "subdivision"), ZONES)
def test_next_open_invariants(zone, country, subdivision):
    cal, ref = calendar_for(zone, country, subdivision), reference(zone, country, subdivision)
    waited = 0
    for at in sample_starts(zone):
        got = next_open(cal, at)
        assert got.tzinfo is UTC and got >= at and ref(got), at
        if got == at:
            assert ref(at)
            continue
        waited += 1
        gap = got - at
        probes = [at + gap * i / 24 for i in range(24)]
        probes += [got - timedelta(minutes=1), got - timedelta(seconds=1)]
        assert not any(ref(p) for p in probes if p >= at), (at, got)
    assert waited > 2000


@pytest.mark.parametrize(("zone", "country", "subdivision"), ZONES)
def test_next_close_invariants(zone, country, subdivision):
    cal, ref = calendar_for(zone, country, subdivision), reference(zone, country, subdivision)
    checked = 0
    for at in sample_starts(zone):
        got = next_close(cal, at)
        if not ref(at):
            assert got is None
            continue
        checked += 1
        assert got.tzinfo is UTC and got > at and not ref(got), at
        span = got - at
        probes = [at + span * i / 24 for i in range(24)] + [got - timedelta(seconds=1)]
        assert all(ref(p) for p in probes if p >= at), (at, got)
    assert checked > 1000


@pytest.mark.parametrize(("zone", "country", "subdivision"), [z for z in ZONES if z[0] != "Asia/Kolkata"])
def test_minute_by_minute_around_every_dst_change(zone, country, subdivision):
    """Exact check by stepping minutes (every edge and offset change here is on a minute)."""
    cal, ref = calendar_for(zone, country, subdivision), reference(zone, country, subdivision)
    changes = offset_changes(zone)
    assert len(changes) >= 3
    minute = timedelta(minutes=1)
    for change in changes:
        at = change - timedelta(hours=30)
        while at < change + timedelta(hours=30):
            state, probe = ref(at), at
            while ref(probe) == state:
                probe += minute
            if state:
                assert next_open(cal, at) == at and next_close(cal, at) == probe, at
            else:
                assert next_open(cal, at) == probe and next_close(cal, at) is None, at
            at += timedelta(minutes=20)

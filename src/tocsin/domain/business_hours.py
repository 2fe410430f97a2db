"""Business-hours calendars: weekly hours in a time zone, public holidays and closed days."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from .conditions import ConditionError, mapping_with

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_GROUPS = {"weekdays": (0, 1, 2, 3, 4), "weekend": (5, 6), "daily": (0, 1, 2, 3, 4, 5, 6)}
CALENDAR_KEYS = ("name", "time_zone", "hours", "holidays", "closed")
MIDNIGHT = time(0, 0)
# A year and a day: every weekday recurs within it, so a calendar closed that long never opens.
HORIZON_DAYS = 367
_DAY = timedelta(days=1)
# UTC-offset changes are months apart, so sampling this often cannot step over a pair.
_OFFSET_PROBE = timedelta(hours=3)
_RANGE = re.compile(r"(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})")


@dataclass(frozen=True)
class Calendar:
    name: str
    time_zone: str
    # (weekday 0=Mon..6=Sun, start, end); end time(0, 0) means midnight at the end of the day.
    weekly: tuple[tuple[int, time, time], ...]
    country: str | None = None
    subdivision: str | None = None
    extra_closed: tuple[date, ...] = ()

    @property
    def region(self) -> str:
        return f"{self.country}-{self.subdivision}" if self.subdivision else str(self.country)


@functools.lru_cache(maxsize=512)
def _holidays(country: str, subdivision: str | None, year: int) -> Mapping[date, str]:
    # Read-only copy: a HolidayBase grows itself on lookups of other years.
    return MappingProxyType(dict(holidays.country_holidays(country, subdiv=subdivision, years=year)))


def _local(cal: Calendar, at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"a business-hours instant must be timezone-aware, got {at!r}")
    return at.astimezone(ZoneInfo(cal.time_zone))


def _closure(cal: Calendar, day: date) -> str | None:
    """Why the whole local `day` is closed, or None when its weekly hours apply."""
    if day in cal.extra_closed:
        return f"{day.isoformat()} is a closed day for {cal.name}"
    if cal.country:
        name = _holidays(cal.country, cal.subdivision, day.year).get(day)
        if name:
            return f'public holiday "{name}" ({cal.region})'
    return None


def _shift(cal: Calendar, local: datetime) -> tuple[int, time, time] | None:
    """The weekly range containing this local wall-clock time, ignoring closed days."""
    wall, weekday = local.time(), local.weekday()
    for entry in cal.weekly:
        wd, start, end = entry
        if wd == weekday and start <= wall and (end == MIDNIGHT or wall < end):
            return entry
    return None


def _open_local(cal: Calendar, local: datetime) -> bool:
    return _shift(cal, local) is not None and _closure(cal, local.date()) is None


def is_open(cal: Calendar, at: datetime) -> bool:
    """Whether the calendar is open at the (aware) instant `at`, judged in its own zone."""
    return _open_local(cal, _local(cal, at))


def next_open(cal: Calendar, at: datetime) -> datetime:
    """`at` (as UTC) when open, else the next instant it opens; ValueError if it never does."""
    if not cal.weekly:
        raise ValueError(f"calendar {cal.name!r} has no weekly hours, so it never opens")
    start = _local(cal, at).astimezone(UTC)
    if is_open(cal, start):
        return start
    found = _scan(cal, start, want_open=True)
    if found is None:
        raise ValueError(f"calendar {cal.name!r} does not open within {HORIZON_DAYS} days of {start}")
    return found


def next_close(cal: Calendar, at: datetime) -> datetime | None:
    """The next instant (UTC) it closes when open at `at`; None when closed or open all year."""
    start = _local(cal, at).astimezone(UTC)
    if not is_open(cal, start):
        return None
    return _scan(cal, start, want_open=False)


def _scan(cal: Calendar, start: datetime, want_open: bool) -> datetime | None:
    """The first instant after `start` where openness becomes `want_open`, a day at a time.

    Openness only changes where local wall time crosses a range edge or midnight, or where
    the UTC offset jumps (daylight saving); those candidates are tested, never minutes."""
    zone = ZoneInfo(cal.time_zone)
    for k in range(HORIZON_DAYS):
        lo = start + k * _DAY
        hi = lo + _DAY
        hits = [
            c
            for c in _candidates(cal, zone, lo, hi)
            if lo <= c < hi and c > start and _open_local(cal, c.astimezone(zone)) == want_open
        ]
        if hits:
            return min(hits)
    return None


def _candidates(cal: Calendar, zone: ZoneInfo, lo: datetime, hi: datetime) -> set[datetime]:
    out = set(_offset_changes(zone, lo, hi))
    # A day either side: around a midnight fall-back, local dates run backwards briefly.
    day = lo.astimezone(zone).date() - _DAY
    last = hi.astimezone(zone).date() + _DAY
    while day <= last:
        for wall in _edges(cal, day.weekday()):
            # fold=0 and fold=1 differ only for wall times that occur twice (or never).
            for fold in (0, 1):
                out.add(datetime.combine(day, wall, tzinfo=zone).replace(fold=fold).astimezone(UTC))
        day += _DAY
    return out


def _edges(cal: Calendar, weekday: int) -> set[time]:
    edges = {MIDNIGHT}
    for wd, start, end in cal.weekly:
        if wd == weekday:
            edges.update((start, end))
    return edges


def _offset_changes(zone: ZoneInfo, lo: datetime, hi: datetime) -> Iterator[datetime]:
    """Instants in about [lo, hi] where the zone's UTC offset changes, to the second."""
    # Whole seconds, starting just before lo, so a change exactly at lo is still seen.
    probe = (lo - timedelta(seconds=1)).replace(microsecond=0)
    while probe < hi:
        nxt = probe + _OFFSET_PROBE
        before = probe.astimezone(zone).utcoffset()
        if nxt.astimezone(zone).utcoffset() != before:
            low, high = 0, int(_OFFSET_PROBE.total_seconds())
            while high - low > 1:
                mid = (low + high) // 2
                if (probe + timedelta(seconds=mid)).astimezone(zone).utcoffset() == before:
                    low = mid
                else:
                    high = mid
            yield probe + timedelta(seconds=high)
        probe = nxt


def _hhmm(t: time, is_end: bool = False) -> str:
    return "24:00" if is_end and t == MIDNIGHT else t.strftime("%H:%M")


def explain(cal: Calendar, at: datetime) -> str:
    """Open or closed at `at`, and why, in words for people."""
    local = _local(cal, at)
    closure = _closure(cal, local.date())
    if closure:
        return f"closed: {closure}"
    shift = _shift(cal, local)
    if shift:
        wd, start, end = shift
        return f"open ({DAYS[wd].title()} {_hhmm(start)}–{_hhmm(end, True)} {cal.time_zone})"
    try:
        opens = next_open(cal, at).astimezone(ZoneInfo(cal.time_zone))
    except ValueError:
        return "closed: outside business hours (no opening within a year)"
    when = f"{DAYS[opens.weekday()].title()} {opens:%Y-%m-%d %H:%M}"
    return f"closed: outside business hours (opens {when} {cal.time_zone})"


def parse_calendar(spec: Any, path: str) -> Calendar:
    """`{name, time_zone, hours: {mon-fri: "09:00-17:30"}, holidays: {country, subdivision}, closed}`."""
    spec = mapping_with(spec, path, set(CALENDAR_KEYS),
        "a calendar is a mapping with name, time_zone and hours")
    name = spec.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConditionError(f"{path}.name", "required, a non-empty string")
    zone = _parse_zone(spec.get("time_zone"), f"{path}.time_zone")
    weekly = _parse_hours(spec.get("hours"), f"{path}.hours")
    country, subdivision = _parse_holidays(spec.get("holidays"), f"{path}.holidays")
    closed = _parse_closed(spec.get("closed"), f"{path}.closed")
    return Calendar(name.strip(), zone, weekly, country, subdivision, closed)


def _parse_zone(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConditionError(path, "required, an IANA time zone such as Europe/London")
    try:
        ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ConditionError(
            path, f"unknown time zone {value!r}; use an IANA name like Europe/London"
        ) from None
    return value.strip()


def _parse_hours(spec: Any, path: str) -> tuple[tuple[int, time, time], ...]:
    if not isinstance(spec, Mapping) or not spec:
        raise ConditionError(path, 'required, a mapping of days to hours, e.g. {mon-fri: "09:00-17:30"}')
    taken: dict[int, list[tuple[int, int, str]]] = {}
    weekly = []
    for key, value in spec.items():
        here = f"{path}.{key}"
        for wd in _parse_days(key, here):
            for start, end, where in _parse_ranges(value, here):
                lo, hi = _minutes(start), _minutes(end) or 24 * 60
                for other_lo, other_hi, other_where in taken.get(wd, []):
                    if lo < other_hi and other_lo < hi:
                        raise ConditionError(where, f"{DAYS[wd]} overlaps the hours given at {other_where}")
                taken.setdefault(wd, []).append((lo, hi, where))
                weekly.append((wd, start, end))
    return tuple(sorted(weekly))


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _parse_days(key: Any, path: str) -> list[int]:
    if not isinstance(key, str):
        raise ConditionError(path, f"a day key is text like mon, mon-fri or weekdays, got {key!r}")
    days: set[int] = set()
    for part in (p.strip() for p in key.lower().split(",")):
        if part in DAY_GROUPS:
            days.update(DAY_GROUPS[part])
        elif part in DAYS:
            days.add(DAYS.index(part))
        elif part.count("-") == 1 and all(p.strip() in DAYS for p in part.split("-")):
            first, last = (DAYS.index(p.strip()) for p in part.split("-"))
            # Ranges may wrap past Sunday: fri-mon is Fri, Sat, Sun, Mon.
            days.update((first + i) % 7 for i in range((last - first) % 7 + 1))
        else:
            raise ConditionError(
                path, f"unknown day {part!r}; use mon..sun, a range like mon-fri, weekdays, weekend or daily"
            )
    return sorted(days)


def _parse_ranges(value: Any, path: str) -> list[tuple[time, time, str]]:
    if isinstance(value, str):
        return [(*_parse_range(value, path), path)]
    if isinstance(value, list) and value:
        return [(*_parse_range(v, f"{path}[{i}]"), f"{path}[{i}]") for i, v in enumerate(value)]
    raise ConditionError(path, 'hours are "HH:MM-HH:MM" or a non-empty list of them (split shifts)')


def _parse_range(text: Any, path: str) -> tuple[time, time]:
    found = _RANGE.fullmatch(text.strip()) if isinstance(text, str) else None
    if found is None:
        raise ConditionError(path, f'expected hours like "09:00-17:30" (quoted in YAML), got {text!r}')
    sh, sm, eh, em = (int(g) for g in found.groups())
    if sh > 23 or sm > 59 or em > 59 or eh > 24 or (eh == 24 and em):
        raise ConditionError(path, f"{text!r} is not a time of day (00:00 to 24:00)")
    start, end = time(sh, sm), time(eh % 24, em)
    if eh * 60 + em <= sh * 60 + sm:
        raise ConditionError(path, f"{text!r}: the start must be before the end (use 24:00 for midnight)")
    return start, end


@functools.lru_cache(maxsize=1)
def _supported() -> Mapping[str, tuple[str, ...]]:
    return MappingProxyType({k: tuple(v) for k, v in holidays.list_supported_countries().items()})


def _parse_holidays(spec: Any, path: str) -> tuple[str | None, str | None]:
    if spec is None:
        return None, None
    if isinstance(spec, str):
        spec = {"country": spec}
    spec = mapping_with(spec, path, {"country", "subdivision"},
        "a mapping like {country: GB, subdivision: ENG}")
    country = spec.get("country")
    code = country.strip().upper() if isinstance(country, str) else None
    if code not in _supported():
        raise ConditionError(
            f"{path}.country",
            f"unknown country {country!r} for public holidays; use a code like GB, US or DE",
        )
    subdivision = spec.get("subdivision")
    if subdivision is None:
        return code, None
    known = _supported()[code]
    wanted = str(subdivision).strip().lower()
    match = next((s for s in known if s.lower() == wanted), None)
    if match is None:
        listed = ", ".join(known) if known else "none"
        raise ConditionError(
            f"{path}.subdivision", f"unknown subdivision {subdivision!r} of {code}; known: {listed}"
        )
    return code, match


def _parse_closed(spec: Any, path: str) -> tuple[date, ...]:
    if spec is None:
        return ()
    if not isinstance(spec, list):
        raise ConditionError(path, "a list of dates like 2026-12-24")
    days = set()
    for i, item in enumerate(spec):
        try:
            # YAML already yields dates; a datetime is a date too but names an instant.
            if isinstance(item, datetime) or not isinstance(item, date | str):
                raise ValueError
            days.add(item if isinstance(item, date) else date.fromisoformat(item.strip()))
        except ValueError:
            raise ConditionError(f"{path}[{i}]", f"expected a date like 2026-12-24, got {item!r}") from None
    return tuple(sorted(days))

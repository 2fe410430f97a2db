"""On-call schedules: layers of rotations in a time zone (handoffs on the wall clock, so a
09:00 handoff stays at 09:00 across daylight-saving changes), restrictions to days and
hours, and overrides; who is on call at an instant, and the final view over a period."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import FieldError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ROTATIONS = {"daily": 1, "weekly": 7}          # custom: length_days
MAX_LAYERS, MAX_MEMBERS, MAX_WINDOWS = 10, 100, 14
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)   # dates a schedule can speak of
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class Window:
    """Local days and hours a layer covers; `end` <= `start` runs past midnight."""

    days: tuple[int, ...]
    start: time
    end: time

    def span(self, day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """The instants this window covers when it opens on `day` (whatever the weekday)."""
        end_day = day if self.start < self.end else day + timedelta(days=1)
        return (instant(datetime.combine(day, self.start), tz),
                instant(datetime.combine(end_day, self.end), tz))

    def covers(self, at: datetime, tz: ZoneInfo) -> bool:
        today = at.astimezone(tz).date()
        for day in (today - timedelta(days=1), today):
            if day.weekday() in self.days:
                opens, closes = self.span(day, tz)
                if opens <= at < closes:
                    return True
        return False


@dataclass(frozen=True)
class Layer:
    name: str
    length_days: int
    handoff: time
    start: date
    members: tuple[int, ...]
    windows: tuple[Window, ...] = ()

    def handoff_at(self, k: int, tz: ZoneInfo) -> datetime:
        """The instant of the k-th handoff: the handoff time on the wall clock."""
        local = datetime.combine(self.start, self.handoff) + timedelta(days=self.length_days * k)
        return instant(local, tz)

    def index_at(self, at: datetime, tz: ZoneInfo) -> int:
        """Which shift of the rotation an instant falls in (-1: before the first)."""
        elapsed = at.astimezone(tz).replace(tzinfo=None) - datetime.combine(self.start,
                                                                            self.handoff)
        k = elapsed // timedelta(days=self.length_days)   # by the wall clock: a first guess
        while k >= 0 and self.handoff_at(k, tz) > at:     # the wall clock can repeat an hour
            k -= 1
        while self.handoff_at(k + 1, tz) <= at:
            k += 1
        return max(k, -1)

    def member_at(self, at: datetime, tz: ZoneInfo) -> int | None:
        k = self.index_at(at, tz)
        if k < 0 or not self.members:
            return None
        if self.windows and not any(w.covers(at, tz) for w in self.windows):
            return None
        return self.members[k % len(self.members)]


def instant(local_naive: datetime, tz: ZoneInfo) -> datetime:
    """A wall-clock time in `tz` as a UTC instant: the first moment the wall clock shows it.
    A repeated time (autumn) is its first occurrence; a skipped one (spring) is the end of
    the gap, when the clock jumps past it."""
    first = local_naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == local_naive:
        return first
    lo = int(local_naive.replace(tzinfo=tz, fold=1).astimezone(UTC).timestamp())
    hi = int(first.timestamp())
    while hi - lo > 1:   # the first whole second whose wall time is past the skipped one
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, tz).replace(tzinfo=None) >= local_naive:
            hi = mid
        else:
            lo = mid
    return datetime.fromtimestamp(hi, UTC)


@dataclass(frozen=True)
class Override:
    user_id: int
    start: datetime   # aware
    end: datetime
    id: int = 0


@dataclass(frozen=True)
class Schedule:
    name: str
    time_zone: str
    layers: tuple[Layer, ...]

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


@dataclass(frozen=True)
class OnCall:
    user_id: int | None
    source: str      # "override" | the layer's name | "" (nobody: a gap)


@dataclass(frozen=True)
class Shift:
    user_id: int | None
    start: datetime
    end: datetime
    source: str


def in_range(at: datetime) -> bool:
    """Instants a schedule can be asked about (far ones would overflow date arithmetic)."""
    return EARLIEST <= at.date() <= LATEST


def on_call(s: Schedule, overrides: list[Override], at: datetime) -> OnCall:
    """An override covering `at` wins (the latest one); else the highest layer with someone
    on call (later layers sit on top of earlier ones); else nobody."""
    for o in reversed(overrides):
        if o.start <= at < o.end:
            return OnCall(o.user_id, "override")
    for layer in reversed(s.layers):
        who = layer.member_at(at, s.tz)
        if who is not None:
            return OnCall(who, layer.name)
    return OnCall(None, "")


def shifts(s: Schedule, overrides: list[Override], start: datetime, end: datetime) -> list[Shift]:
    """The final view: consecutive shifts covering [start, end), gaps included (user None)."""
    edges = sorted({start, end, *(e for e in _edges(s, overrides, start, end)
                                  if start < e < end)})
    out: list[Shift] = []
    for a, b in zip(edges, edges[1:], strict=False):
        who = on_call(s, overrides, a)
        if out and out[-1].user_id == who.user_id and out[-1].source == who.source:
            out[-1] = Shift(who.user_id, out[-1].start, b, who.source)
        else:
            out.append(Shift(who.user_id, a, b, who.source))
    return out


def gaps(s: Schedule, overrides: list[Override], start: datetime, end: datetime) -> list[Shift]:
    return [x for x in shifts(s, overrides, start, end) if x.user_id is None]


def _edges(s: Schedule, overrides: list[Override], start: datetime, end: datetime) -> list[datetime]:
    """Every instant in (start, end) at which who is on call may change."""
    tz = s.tz
    found = [o.start for o in overrides] + [o.end for o in overrides]
    first_day = start.astimezone(tz).date() - timedelta(days=1)
    last_day = end.astimezone(tz).date() + timedelta(days=1)
    for layer in s.layers:
        k = max(layer.index_at(start, tz), 0)
        while (at := layer.handoff_at(k, tz)) < end:
            found.append(at)
            k += 1
        day = first_day
        while layer.windows and day <= last_day:
            for w in layer.windows:
                found += w.span(day, tz)
            day += timedelta(days=1)
    return found


# --- parsing -------------------------------------------------------------------------------


def parse(data: Any) -> tuple[Schedule | None, list[FieldError]]:
    """`{name, time_zone, layers: [{name, rotation: daily|weekly|custom, length_days?,
    handoff: "09:00", start: "2026-12-01", members: [ids], restrictions?: [{days, start,
    end}]}]}`; every problem with its path."""
    errors: list[FieldError] = []
    if not isinstance(data, dict):
        return None, [FieldError("", "a schedule is an object with name, time_zone and layers")]
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        errors.append(FieldError("name", "required, at most 100 characters"))
    zone = data.get("time_zone")
    if not _is_zone(zone):
        errors.append(FieldError("time_zone", f"an IANA time zone like Europe/London, not {zone!r}"))
    raw = data.get("layers")
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_LAYERS:
        errors.append(FieldError("layers", f"a list of 1 to {MAX_LAYERS} layers"))
        raw = []
    layers = [_layer(x, f"layers[{i}]", errors) for i, x in enumerate(raw)]
    if errors:
        return None, errors
    return Schedule(name.strip(), zone, tuple(x for x in layers if x)), []


def _is_zone(zone: Any) -> bool:
    if not isinstance(zone, str) or not zone:
        return False
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def _layer(raw: Any, path: str, errors: list[FieldError]) -> Layer | None:
    if not isinstance(raw, dict):
        errors.append(FieldError(path, "a layer is an object with rotation, handoff, start "
                                       "and members"))
        return None
    before = len(errors)
    rotation = raw.get("rotation")
    length = ROTATIONS.get(rotation) if rotation != "custom" else raw.get("length_days")
    if rotation not in (*ROTATIONS, "custom"):
        errors.append(FieldError(f"{path}.rotation", "daily, weekly or custom"))
    elif not isinstance(length, int) or isinstance(length, bool) or not 1 <= length <= 365:
        errors.append(FieldError(f"{path}.length_days", "a custom rotation's length, 1 to 365 "
                                                        "days"))
    handoff = _hhmm(raw.get("handoff", "09:00"), f"{path}.handoff", errors)
    try:
        start = date.fromisoformat(str(raw.get("start")))
        if not EARLIEST <= start <= LATEST:
            raise ValueError
    except ValueError:
        errors.append(FieldError(f"{path}.start", "the first handoff's date, like 2026-12-01 "
                                                  f"({EARLIEST.year}–{LATEST.year})"))
        start = None
    members = raw.get("members")
    if not isinstance(members, list) or not 1 <= len(members) <= MAX_MEMBERS or not all(
            isinstance(m, int) and not isinstance(m, bool) and m > 0 for m in members):
        errors.append(FieldError(f"{path}.members", f"1 to {MAX_MEMBERS} person ids, in turn "
                                                    "order"))
    windows = _windows(raw.get("restrictions") or [], f"{path}.restrictions", errors)
    if len(errors) > before:
        return None
    name = str(raw.get("name") or f"layer {path}")[:100]
    return Layer(name, length, handoff, start, tuple(members), windows)


def _windows(raw: Any, path: str, errors: list[FieldError]) -> tuple[Window, ...]:
    if not isinstance(raw, list) or len(raw) > MAX_WINDOWS:
        errors.append(FieldError(path, f"a list of up to {MAX_WINDOWS} windows"))
        return ()
    out = []
    for i, w in enumerate(raw):
        where = f"{path}[{i}]"
        if not isinstance(w, dict):
            errors.append(FieldError(where, "a window is {days: [mon, ...], start, end}"))
            continue
        days = w.get("days", list(DAYS))
        if not isinstance(days, list) or not days or any(d not in DAYS for d in days):
            errors.append(FieldError(f"{where}.days", f"a list of {', '.join(DAYS)}"))
            continue
        start = _hhmm(w.get("start"), f"{where}.start", errors)
        end = _hhmm(w.get("end"), f"{where}.end", errors, allow_24=True)
        if start is not None and end is not None:
            out.append(Window(tuple(DAYS.index(d) for d in days), start, end))
    return tuple(out)


def _hhmm(v: Any, path: str, errors: list[FieldError], allow_24: bool = False) -> time | None:
    if allow_24 and v == "24:00":
        return time(0, 0)   # midnight: a window ending at 24:00 runs until the next day
    m = _HHMM.match(v) if isinstance(v, str) else None
    if m is None:
        errors.append(FieldError(path, "a time like 09:00"))
        return None
    return time(int(m.group(1)), int(m.group(2)))


def as_dict(s: Schedule) -> dict[str, Any]:
    return {"name": s.name, "time_zone": s.time_zone, "layers": [{
        "name": x.name, "rotation": _rotation(x.length_days), "length_days": x.length_days,
        "handoff": x.handoff.strftime("%H:%M"), "start": x.start.isoformat(),
        "members": list(x.members),
        "restrictions": [{"days": [DAYS[d] for d in w.days], "start": w.start.strftime("%H:%M"),
                          "end": "24:00" if w.end == time(0) else w.end.strftime("%H:%M")}
                         for w in x.windows]} for x in s.layers]}


def _rotation(length: int) -> str:
    return {1: "daily", 7: "weekly"}.get(length, "custom")


HANDOFF_LEAD = timedelta(minutes=15)     # the incoming person hears this long before
GAP_LOOKAHEAD = timedelta(hours=24)      # gaps starting within this are announced


def notices_due(view: list[Shift], now: datetime) -> list[tuple[str, int]]:
    """Which shifts of a final view (covering now to GAP_LOOKAHEAD) need a notice now, as
    (shift | gap, index): a gap starting later, and a shift starting within HANDOFF_LEAD
    that hands over to someone new (not a person going on after their own shift)."""
    due = []
    for i, x in enumerate(view):
        if x.start <= now:
            continue
        if x.user_id is None:
            due.append(("gap", i))
        elif x.start - now <= HANDOFF_LEAD and (i == 0 or view[i - 1].user_id != x.user_id):
            due.append(("shift", i))
    return due

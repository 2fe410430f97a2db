"""The alert routing tree: ordered, specific routes with actions, like Alertmanager's."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .conditions import ConditionError, mapping_with
from .matchers import Matcher, parse_matchers
from .severity import SEVERITIES

WHEN = ("business_hours", "after_hours")
ROUTE_KEYS = {"name", "match", "when", "calendar", "actions", "group_by", "group_wait",
              "continue", "routes", "auto_resolve"}
ACTION_KEYS = {"open_incident", "page", "queue", "channel", "tag_owner", "snooze",
               "log_and_close", "escalate_to"}
DURATION = re.compile(r"^(\d+)\s*(s|m|h)?$")


@dataclass(frozen=True)
class Actions:
    open_incident: str | None = None     # severity of the incident to open or attach to
    title: str | None = None             # incident title template ({alertname}, {summary}…)
    page: str | None = None              # escalation policy to page (escalation engine hook)
    queue: str | None = None             # work queue the alert is posted to
    channel: str | None = None           # chat channel to post to (chat integration hook)
    tag_owner: bool = False              # make the service owner the alert/incident owner
    snooze_after_hours: bool = False     # outside the calendar's hours, snooze until it opens
    log_and_close: bool = False          # record and close at once (informational alerts)
    escalate_to: str | None = None       # incident role to escalate to (roles hook)

    def describe(self) -> list[str]:
        out = []
        if self.log_and_close:
            out.append("log and close")
        if self.open_incident:
            out.append(f"open or attach to a {self.open_incident} incident")
        if self.page:
            out.append(f"page {self.page}")
        if self.queue:
            out.append(f"post to queue {self.queue}")
        if self.channel:
            out.append(f"post to channel {self.channel}")
        if self.tag_owner:
            out.append("tag the service owner")
        if self.escalate_to:
            out.append(f"escalate to {self.escalate_to}")
        if self.snooze_after_hours:
            out.append("snooze until business hours when after hours")
        return out


@dataclass(frozen=True)
class Route:
    name: str
    matchers: tuple[Matcher, ...]
    actions: Actions = field(default_factory=Actions)
    when: str | None = None
    calendar: str | None = None
    group_by: tuple[str, ...] = ()
    group_wait_seconds: int = 0
    continue_: bool = False
    auto_resolve: bool = True
    children: tuple[Route, ...] = ()


@dataclass(frozen=True)
class RouteMatch:
    route: Route                  # effective route: group_by/calendar inherited from parents
    path: tuple[str, ...]
    why: tuple[str, ...]

    def group_key(self, labels: Mapping[str, str]) -> str:
        key = ",".join(f'{k}="{labels.get(k, "")}"' for k in self.route.group_by) or "{}"
        if len(key) > 500:  # long label values: keep it readable-ish and bounded
            key = key[:430] + "…sha256:" + hashlib.sha256(key.encode()).hexdigest()
        return key


@dataclass(frozen=True)
class RoutingDecision:
    matches: tuple[RouteMatch, ...]
    trace: tuple[str, ...]        # every route looked at, and why it did or did not match

    @property
    def reason(self) -> str:
        if not self.matches:
            return "no route matched (Tocsin has no catch-all: the alert stays open, unrouted)"
        parts = []
        for m in self.matches:
            acts = ", ".join(m.route.actions.describe()) or "no actions"
            parts.append(f"route {' > '.join(m.path)} ({'; '.join(m.why)}) → {acts}")
        return "; ".join(parts)


def evaluate(routes: Sequence[Route], labels: Mapping[str, str],
             open_calendars: Mapping[str, bool]) -> RoutingDecision:
    """Walk the tree. At each level routes are tried in order; the first that matches wins
    unless it says `continue`. A matching route's children refine it; when none of them
    matches, the route itself applies. `open_calendars` says which calendars are open now."""
    trace: list[str] = []
    matches = _walk(routes, labels, open_calendars, (), None, (), trace)
    return RoutingDecision(tuple(matches), tuple(trace))


def _walk(routes: Sequence[Route], labels: Mapping[str, str], open_cal: Mapping[str, bool],
          path: tuple[str, ...], parent: Route | None, why: tuple[str, ...],
          trace: list[str]) -> list[RouteMatch]:
    found: list[RouteMatch] = []
    for r in routes:
        eff = _inherit(r, parent)
        ok, reasons = _matches(eff, labels, open_cal)
        depth = "  " * len(path)
        trace.append(f"{depth}{r.name}: {'MATCH' if ok else 'no'} — {'; '.join(reasons)}")
        if not ok:
            continue
        here = path + (r.name,)
        sub = _walk(r.children, labels, open_cal, here, eff, why + tuple(reasons), trace)
        found.extend(sub or [RouteMatch(eff, here, why + tuple(reasons))])
        if not r.continue_:
            break
    return found


def _inherit(r: Route, parent: Route | None) -> Route:
    if parent is None:
        return r
    return replace(r, group_by=r.group_by or parent.group_by,
                   calendar=r.calendar or parent.calendar,
                   group_wait_seconds=r.group_wait_seconds or parent.group_wait_seconds)


def _matches(r: Route, labels: Mapping[str, str],
             open_cal: Mapping[str, bool]) -> tuple[bool, list[str]]:
    reasons = []
    for m in r.matchers:
        if not m.matches(labels):
            return False, [f'{m} does not hold ({m.name}="{labels.get(m.name, "")}")']
        reasons.append(str(m))
    if r.when:
        is_open = open_cal.get(r.calendar or "", False)
        wanted = r.when == "business_hours"
        state = "open" if is_open else "closed"
        if is_open != wanted:
            return False, [f"only {r.when.replace('_', ' ')}; calendar {r.calendar} is {state}"]
        reasons.append(f"{r.when.replace('_', ' ')} ({r.calendar} is {state})")
    return True, reasons


# ---- parsing the routing tree from configuration ----

def parse_routes(spec: Any, path: str, calendars: set[str] | None = None) -> tuple[Route, ...]:
    if not isinstance(spec, list):
        raise ConditionError(path, "a list of routes")
    routes = tuple(parse_route(s, f"{path}[{i}]", calendars) for i, s in enumerate(spec))
    _unique_names(routes, path)
    return routes


def _unique_names(routes: Sequence[Route], path: str) -> None:
    seen: set[str] = set()

    def walk(rs: Sequence[Route]) -> None:
        for r in rs:
            if r.name in seen:
                raise ConditionError(path, f"route name {r.name!r} is used twice")
            seen.add(r.name)
            walk(r.children)
    walk(routes)


def parse_route(spec: Any, path: str, calendars: set[str] | None = None) -> Route:
    spec = mapping_with(spec, path, ROUTE_KEYS, "a route is a mapping with name, match and actions")
    name = spec.get("name")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 90:
        raise ConditionError(f"{path}.name", "required, 1 to 90 characters")
    if "match" not in spec:
        raise ConditionError(f"{path}.match", "required: Tocsin has no silent catch-all route")
    matchers = parse_matchers(spec["match"], f"{path}.match")
    if not matchers:
        raise ConditionError(f"{path}.match", "at least one matcher (no silent catch-all)")
    when, calendar = spec.get("when"), spec.get("calendar")
    if when is not None and when not in WHEN:
        raise ConditionError(f"{path}.when", f"one of {', '.join(WHEN)}")
    if calendar is not None and calendars is not None and calendar not in calendars:
        raise ConditionError(f"{path}.calendar", f"no calendar {calendar!r}")
    actions = parse_actions(spec.get("actions") or {}, f"{path}.actions")
    if (when or actions.snooze_after_hours) and not calendar:
        raise ConditionError(f"{path}.calendar", "business hours need a calendar")
    group_by = spec.get("group_by") or []
    if not isinstance(group_by, list) or not all(isinstance(g, str) for g in group_by):
        raise ConditionError(f"{path}.group_by", "a list of label names")
    children = parse_routes(spec.get("routes") or [], f"{path}.routes", calendars)
    return Route(name.strip(), matchers, actions, when, calendar, tuple(group_by),
                 parse_duration(spec.get("group_wait", 0), f"{path}.group_wait"),
                 bool(spec.get("continue", False)), bool(spec.get("auto_resolve", True)),
                 children)


def parse_actions(spec: Any, path: str) -> Actions:
    if not isinstance(spec, Mapping):
        raise ConditionError(path, "a mapping of actions")
    unknown = set(spec) - ACTION_KEYS
    if unknown:
        raise ConditionError(path, f"unknown action(s): {', '.join(sorted(map(str, unknown)))}; "
                                   f"use {', '.join(sorted(ACTION_KEYS))}")
    inc = spec.get("open_incident")
    severity, title = None, None
    if inc is not None:
        if not isinstance(inc, Mapping) or inc.get("severity") not in SEVERITIES:
            raise ConditionError(f"{path}.open_incident", "{severity: P1..P4, title: optional}")
        severity, title = inc["severity"], inc.get("title")
    snooze = spec.get("snooze")
    if snooze not in (None, "until_business_hours"):
        raise ConditionError(f"{path}.snooze", "only `until_business_hours`")
    closes = bool(spec.get("log_and_close", False))
    if closes and (severity or spec.get("page")):
        raise ConditionError(path, "log_and_close cannot also open an incident or page")
    return Actions(severity, title, _opt_str(spec, "page", path), _opt_str(spec, "queue", path),
                   _opt_str(spec, "channel", path), bool(spec.get("tag_owner", False)),
                   snooze == "until_business_hours", closes, _opt_str(spec, "escalate_to", path))


def _opt_str(spec: Mapping[str, Any], key: str, path: str) -> str | None:
    value = spec.get(key)
    if value is not None and (not isinstance(value, str) or not 1 <= len(value.strip()) <= 100):
        raise ConditionError(f"{path}.{key}", "a string of 1 to 100 characters")
    return value


def parse_duration(value: Any, path: str) -> int:
    """Seconds from 30, "30s", "5m" or "1h"."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    m = DURATION.match(str(value).strip()) if isinstance(value, str) else None
    if not m:
        raise ConditionError(path, "a duration like 30s, 5m or 1h")
    return int(m.group(1)) * {"s": 1, "m": 60, "h": 3600, None: 1}[m.group(2)]


def route_to_spec(r: Route) -> dict[str, Any]:
    out: dict[str, Any] = {"name": r.name, "match": [str(m) for m in r.matchers]}
    if r.when:
        out["when"] = r.when
    if r.calendar:
        out["calendar"] = r.calendar
    out["actions"] = _actions_spec(r.actions)
    for key, value, default in (("group_by", list(r.group_by), []),
                                ("group_wait", f"{r.group_wait_seconds}s", "0s"),
                                ("continue", r.continue_, False),
                                ("auto_resolve", r.auto_resolve, True)):
        if value != default:
            out[key] = value
    if r.children:
        out["routes"] = [route_to_spec(c) for c in r.children]
    return out


def _actions_spec(a: Actions) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if a.open_incident:
        out["open_incident"] = {"severity": a.open_incident, **({"title": a.title} if a.title else {})}
    for key in ("page", "queue", "channel", "escalate_to"):
        if getattr(a, key):
            out[key] = getattr(a, key)
    if a.tag_owner:
        out["tag_owner"] = True
    if a.snooze_after_hours:
        out["snooze"] = "until_business_hours"
    if a.log_and_close:
        out["log_and_close"] = True
    return out


def routing_labels(labels: Mapping[str, str], service: str, tier: int, severity: str | None,
                   source: str, integration: str) -> dict[str, str]:
    """The labels routes match on: the alert's own, plus Tocsin's (double-underscored)."""
    out = {k: str(v) for k, v in labels.items()}
    out.update({"__service__": service, "__tier__": str(tier), "__severity__": severity or "",
                "__source__": source, "__integration__": integration})
    out.setdefault("service", service)
    return out

"""Alerting configuration held as data: calendars, routes, inhibition rules, cooldown."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..domain.business_hours import Calendar, parse_calendar
from ..domain.inhibition import InhibitRule
from ..domain.inhibition import parse_rule as parse_inhibit
from ..domain.routing import Route, parse_routes
from ..store.uow import UnitOfWork

DEFAULT_COOLDOWN_MINUTES = 10
ALERTING_KEYS = {"cooldown_minutes"}


@dataclass(frozen=True)
class AlertingConfig:
    routes: tuple[Route, ...]
    inhibit_rules: tuple[InhibitRule, ...]
    calendars: dict[str, Calendar]
    cooldown_minutes: int


def parse_all(calendars: Any, routes: Any, inhibit: Any, alerting: Any) -> AlertingConfig:
    """Parse the four sections together (routes refer to calendars). Raises ConditionError."""
    cals = {}
    for i, spec in enumerate(calendars or []):
        cal = parse_calendar(spec, f"calendars[{i}]")
        cals[cal.name] = cal
    parsed_routes = parse_routes(routes or [], "routes", set(cals))
    rules = tuple(parse_inhibit(s, f"inhibit_rules[{i}]") for i, s in enumerate(inhibit or []))
    settings = alerting or {}
    cooldown = settings.get("cooldown_minutes", DEFAULT_COOLDOWN_MINUTES)
    return AlertingConfig(parsed_routes, rules, cals, int(cooldown))


def load(uow: UnitOfWork) -> AlertingConfig:
    """The stored configuration (validated when it was applied)."""
    get = uow.settings.get
    return parse_all(get("calendars", []), get("routes", []), get("inhibit_rules", []),
                     get("alerting", {}))


def load_names(uow: UnitOfWork) -> list[str]:
    """Calendar names, for snooze pickers."""
    with uow:
        return [c.get("name") for c in uow.settings.get("calendars", []) or []
                if isinstance(c, dict)]

"""Personal notification rules: which of a person's contact methods a page goes to, and how
many minutes after the escalation step each waits (unless the incident is acknowledged)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import FieldError

URGENCIES = ("high", "low")
HIGH_SEVERITIES = ("P1", "P2")      # high urgency; P3 and P4 are low
MAX_RULES = 20
MAX_RULE_DELAY = 24 * 60
RULE_KEYS = ("contact_method_id", "delay_minutes", "urgency")


@dataclass(frozen=True)
class Rule:
    contact_method_id: int
    delay_minutes: int
    urgency: str | None = None      # None: every incident


@dataclass(frozen=True)
class Planned:
    contact_method_id: int
    delay_minutes: int


def urgency_of(severity: str | None) -> str:
    """P3 and P4 are low urgency; anything else (P1, P2, unknown) high: never page less."""
    return "low" if severity in ("P3", "P4") else "high"


def parse(data: Any, method_ids: Collection[int]) -> tuple[tuple[Rule, ...] | None, list[FieldError]]:
    """Rules from `[{contact_method_id, delay_minutes, urgency?}]` (the person's own contact
    methods only), or every problem found, each with its path. An empty list means "the
    default": every contact method at once."""
    if not isinstance(data, list) or len(data) > MAX_RULES:
        return None, [FieldError("rules", f"a list of at most {MAX_RULES} rules")]
    errors: list[FieldError] = []
    rules: list[Rule] = []
    seen: dict[Rule, int] = {}
    for i, raw in enumerate(data):
        rule = _rule(raw, f"rules[{i}]", method_ids, errors)
        if rule is None:
            continue
        if rule in seen:
            errors.append(FieldError(f"rules[{i}]", f"the same contact method, delay and "
                                                    f"urgency as rules[{seen[rule]}]"))
            continue
        seen[rule] = i
        rules.append(rule)
    if not errors:
        errors += _first_at_once(rules)
    return (None, errors) if errors else (tuple(rules), [])


def _rule(raw: Any, path: str, method_ids: Collection[int],
          errors: list[FieldError]) -> Rule | None:
    if not isinstance(raw, dict):
        errors.append(FieldError(path, "a rule is an object with contact_method_id, "
                                       "delay_minutes and urgency (optional)"))
        return None
    found = len(errors)
    errors += [FieldError(f"{path}.{k}", "unknown key; allowed: " + ", ".join(RULE_KEYS))
               for k in raw if k not in RULE_KEYS]
    method, delay, urgency = (raw.get("contact_method_id"), raw.get("delay_minutes", 0),
                              raw.get("urgency"))
    if not _is_int(method) or method not in method_ids:
        known = ", ".join(str(m) for m in sorted(method_ids)) or "none yet"
        errors.append(FieldError(f"{path}.contact_method_id",
                                 f"one of this person's contact methods (ids: {known})"))
    if not _is_int(delay) or not 0 <= delay <= MAX_RULE_DELAY:
        errors.append(FieldError(f"{path}.delay_minutes",
                                 f"minutes after the step pages, 0 to {MAX_RULE_DELAY}"))
    if urgency is not None and urgency not in URGENCIES:
        errors.append(FieldError(f"{path}.urgency",
                                 "high (P1, P2), low (P3, P4), or null for every incident"))
    return None if len(errors) > found else Rule(method, delay, urgency)


def _first_at_once(rules: Sequence[Rule]) -> list[FieldError]:
    """For each urgency the rules cover, one of them must page at once: a page that waits
    for nothing first would only delay the person being woken."""
    errors = []
    for u in URGENCIES:
        delays = [r.delay_minutes for r in rules if r.urgency in (None, u)]
        if delays and min(delays) > 0:
            errors.append(FieldError("rules", f"for {u}-urgency incidents the first rule must be "
                                              f"at 0 minutes (now the first is at {min(delays)})"))
    return errors


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def plan(rules: Sequence[Rule], method_ids: Sequence[int], severity: str | None) -> tuple[Planned, ...]:
    """What paging this person for an incident of `severity` sends: the rules for its
    urgency (in delay order, then rule order, each pair once), or — when the person has no
    rule for it — every contact method at once."""
    usable = set(method_ids)
    u = urgency_of(severity)
    chosen = [r for r in rules if r.urgency in (None, u) and r.contact_method_id in usable]
    if not chosen:
        return tuple(Planned(m, 0) for m in method_ids)
    out: list[Planned] = []
    for r in sorted(chosen, key=lambda r: r.delay_minutes):   # stable: keeps rule order
        p = Planned(r.contact_method_id, r.delay_minutes)
        if p not in out:
            out.append(p)
    return tuple(out)


def describe(planned: Sequence[Planned], types: Mapping[int, str]) -> str:
    """`email, sms; voice after 5 min` — at once first, then each later delay."""
    by_delay: dict[int, list[str]] = {}
    for p in planned:
        by_delay.setdefault(p.delay_minutes, []).append(types.get(p.contact_method_id, "?"))
    return "; ".join(", ".join(names) + (f" after {d} min" if d else "")
                     for d, names in sorted(by_delay.items()))

"""Severity levels with response targets, and the ordered rules that classify an event."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .conditions import Condition, ConditionError, mapping_with, parse_conditions

SEVERITIES = ("P1", "P2", "P3", "P4")
KINDS = ("ticket", "issue", "incident")
COVERAGES = ("24/7", "business_hours")


@dataclass(frozen=True)
class SeverityLevel:
    code: str
    name: str
    description: str
    ack_within_minutes: int
    update_every_minutes: int | None
    coverage: str

    @property
    def rank(self) -> int:
        return SEVERITIES.index(self.code) + 1


@dataclass(frozen=True)
class SeverityRule:
    name: str
    severity: str
    description: str = ""
    kind: str | None = None
    all_of: tuple[Condition, ...] = ()
    any_of: tuple[tuple[Condition, ...], ...] = ()

    def match(self, facts: Mapping[str, Any]) -> list[str] | None:
        """Explanations of what matched, or None when the rule does not apply."""
        if not all(c.test(facts) for c in self.all_of):
            return None
        why = [c.explain(facts) for c in self.all_of]
        if self.any_of:
            group = next((g for g in self.any_of if all(c.test(facts) for c in g)), None)
            if group is None:
                return None
            why += [c.explain(facts) for c in group]
        return why


@dataclass(frozen=True)
class Classification:
    kind: str
    severity: str
    rule: str | None
    reason: str
    matched: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Fallback:
    kind: str = "issue"
    severity: str = "P3"


def classify(
    rules: Sequence[SeverityRule],
    facts: Mapping[str, Any],
    requested_kind: str | None = None,
    fallback: Fallback = Fallback(),
) -> Classification:
    """The first rule (in order) whose conditions hold decides kind and severity."""
    for rule in rules:
        why = rule.match(facts)
        if why is None:
            continue
        kind = rule.kind or requested_kind or fallback.kind
        lead = rule.description or f"Rule '{rule.name}' matched"
        reason = f"{lead} — rule '{rule.name}': {'; '.join(why)}."
        return Classification(kind, rule.severity, rule.name, reason, tuple(why))
    kind = requested_kind or fallback.kind
    return Classification(
        kind,
        fallback.severity,
        None,
        f"No severity rule matched these attributes; defaulted to {fallback.severity}.",
    )


def facts_for(attributes: Mapping[str, Any], service: Mapping[str, Any] | None) -> dict[str, Any]:
    """Flatten request attributes and the service's properties into one fact mapping."""
    facts = dict(attributes)
    for key, value in (service or {}).items():
        facts[f"service.{key}"] = value
    return facts


def parse_rule(spec: Any, path: str) -> SeverityRule:
    spec = mapping_with(spec, path, {"name", "severity", "description", "kind", "when", "any"},
        "a rule is a mapping with name, severity and when/any")
    name = spec.get("name")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 100:
        raise ConditionError(f"{path}.name", "required, 1 to 100 characters")
    sev = spec.get("severity")
    if sev not in SEVERITIES:
        raise ConditionError(f"{path}.severity", f"must be one of {', '.join(SEVERITIES)}")
    kind = spec.get("kind")
    if kind is not None and kind not in KINDS:
        raise ConditionError(f"{path}.kind", f"must be one of {', '.join(KINDS)}")
    if "when" not in spec and "any" not in spec:
        raise ConditionError(path, "needs `when` (all must hold) and/or `any` (one group must)")
    all_of = parse_conditions(spec["when"], f"{path}.when") if "when" in spec else ()
    any_of: tuple[tuple[Condition, ...], ...] = ()
    if "any" in spec:
        groups = spec["any"]
        if not isinstance(groups, list) or not groups:
            raise ConditionError(f"{path}.any", "a non-empty list of condition mappings")
        any_of = tuple(parse_conditions(g, f"{path}.any[{i}]") for i, g in enumerate(groups))
    desc = spec.get("description") or ""
    return SeverityRule(name.strip(), sev, str(desc), kind, all_of, any_of)


def rule_to_spec(rule: SeverityRule) -> dict[str, Any]:
    out: dict[str, Any] = {"name": rule.name, "severity": rule.severity}
    if rule.kind:
        out["kind"] = rule.kind
    if rule.description:
        out["description"] = rule.description
    if rule.all_of:
        out["when"] = {c.field: c.to_spec() for c in rule.all_of}
    if rule.any_of:
        out["any"] = [{c.field: c.to_spec() for c in g} for g in rule.any_of]
    return out


def parse_level(spec: Any, path: str) -> SeverityLevel:
    if not isinstance(spec, Mapping):
        raise ConditionError(path, "a severity level is a mapping")
    code = spec.get("code")
    if code not in SEVERITIES:
        raise ConditionError(f"{path}.code", f"must be one of {', '.join(SEVERITIES)}")
    cov = spec.get("coverage", "24/7")
    if cov not in COVERAGES:
        raise ConditionError(f"{path}.coverage", f"must be one of {', '.join(COVERAGES)}")
    ack = spec.get("ack_within_minutes")
    if not isinstance(ack, int) or isinstance(ack, bool) or ack <= 0:
        raise ConditionError(f"{path}.ack_within_minutes", "required, a positive whole number")
    upd = spec.get("update_every_minutes")
    if upd is not None and (not isinstance(upd, int) or isinstance(upd, bool) or upd <= 0):
        raise ConditionError(f"{path}.update_every_minutes", "a positive whole number or null")
    if len(str(spec.get("name") or code)) > 50:
        raise ConditionError(f"{path}.name", "at most 50 characters")
    return SeverityLevel(
        code, str(spec.get("name") or code), str(spec.get("description") or ""), ack, upd, cov
    )

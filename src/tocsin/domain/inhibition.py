"""Inhibition rules: a firing source alert mutes matching target alerts that share labels."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .conditions import ConditionError, mapping_with
from .matchers import LABEL_NAME, Matcher, matches_all, parse_matchers

RULE_KEYS = ("name", "source", "target", "equal")


@dataclass(frozen=True)
class InhibitRule:
    name: str
    source: tuple[Matcher, ...]
    target: tuple[Matcher, ...]
    equal: tuple[str, ...]


@dataclass(frozen=True)
class InhibitDecision:
    inhibited: bool
    rule: str | None
    source_key: str | None
    reason: str


def decide(
    rules: Sequence[InhibitRule],
    target_key: str,
    target_labels: Mapping[str, str],
    firing: Iterable[tuple[str, Mapping[str, str]]],
) -> InhibitDecision:
    """The first rule (in order) with a firing source alert that inhibits the target."""
    candidates: list[tuple[str, Mapping[str, str]]] | None = None
    for rule in rules:
        if not matches_all(rule.target, target_labels):
            continue
        if candidates is None:  # built only when some rule could mute this alert
            candidates = [(key, labels) for key, labels in firing if key != target_key]
        source = _source_for(rule, target_labels, candidates)
        if source is None:
            continue
        key, labels = source
        reason = f"inhibited by rule '{rule.name}': firing alert '{key}' matches its source"
        if rule.equal:
            shared = ", ".join(f'{n}="{labels.get(n, "")}"' for n in rule.equal)
            reason += f" and has the same {shared}"
        return InhibitDecision(True, rule.name, key, reason)
    return InhibitDecision(False, None, None, "no inhibition rule applies")


def _source_for(
    rule: InhibitRule,
    target_labels: Mapping[str, str],
    candidates: Sequence[tuple[str, Mapping[str, str]]],
) -> tuple[str, Mapping[str, str]] | None:
    # As Alertmanager does: when the target could itself be a source, alerts that are also
    # targets cannot inhibit it, or two such alerts would mute each other and both vanish.
    two_sided = matches_all(rule.source, target_labels)
    for key, labels in candidates:
        if not matches_all(rule.source, labels):
            continue
        if two_sided and matches_all(rule.target, labels):
            continue
        # A label missing on both sides counts as equal (both are the empty string).
        if all(labels.get(n, "") == target_labels.get(n, "") for n in rule.equal):
            return key, labels
    return None


def parse_rule(spec: Any, path: str) -> InhibitRule:
    """`{name, source, target, equal}`; source/target take any form `parse_matchers` does."""
    spec = mapping_with(spec, path, set(RULE_KEYS),
        "an inhibition rule is a mapping with name, source, target and equal")
    name = spec.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConditionError(f"{path}.name", "required, a non-empty string")
    sides = {}
    for side in ("source", "target"):
        if side not in spec:
            raise ConditionError(f"{path}.{side}", "required: the matchers of the alerts on this side")
        sides[side] = parse_matchers(spec[side], f"{path}.{side}")
        # An empty side would match every alert: too broad to be what anyone meant.
        if not sides[side]:
            raise ConditionError(f"{path}.{side}", "needs at least one matcher")
    return InhibitRule(name.strip(), sides["source"], sides["target"], _parse_equal(spec, path))


def _parse_equal(spec: Mapping[str, Any], path: str) -> tuple[str, ...]:
    equal = spec.get("equal") or []
    if not isinstance(equal, list):
        raise ConditionError(f"{path}.equal", "a list of label names, e.g. [instance]")
    for i, label in enumerate(equal):
        if not isinstance(label, str) or not LABEL_NAME.fullmatch(label):
            raise ConditionError(
                f"{path}.equal[{i}]", f"invalid label name {label!r}: must match [a-zA-Z_][a-zA-Z0-9_]*"
            )
    return tuple(equal)

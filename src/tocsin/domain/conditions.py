"""Declarative conditions over facts (attributes and service properties), with explanations."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

OPERATORS = ("eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "contains", "exists")


class ConditionError(ValueError):
    """A condition spec that cannot be understood; `path` says where."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


def raise_first(errors: list[Any], path: str, rename: Mapping[str, str] | None = None) -> None:
    """A parser's first `FieldError` as a ConditionError at `path` (config files)."""
    if errors:
        e = errors[0]
        field = (rename or {}).get(e.field, e.field)
        raise ConditionError(f"{path}.{field}" if field else path, e.message)


def mapping_with(spec: Any, path: str, allowed: Iterable[str], what: str) -> Mapping[str, Any]:
    """`spec` as a mapping holding only `allowed` keys; else ConditionError at `path` saying
    `what` it should be, or naming the unknown keys."""
    if not isinstance(spec, Mapping):
        raise ConditionError(path, what)
    unknown = set(spec) - set(allowed)
    if unknown:
        raise ConditionError(path, f"unknown key(s): {', '.join(sorted(map(str, unknown)))}")
    return spec


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any

    def test(self, facts: Mapping[str, Any]) -> bool:
        present = self.field in facts and facts[self.field] is not None
        if self.op == "exists":
            return present == bool(self.value)
        if not present:
            return False
        actual = facts[self.field]
        match self.op:
            case "eq":
                return actual == self.value
            case "ne":
                return actual != self.value
            case "in":
                return actual in self.value
            case "not_in":
                return actual not in self.value
            case "contains":
                return isinstance(actual, list | tuple | set) and self.value in actual
        if not _is_number(actual):
            return False
        return {
            "gt": actual > self.value,
            "gte": actual >= self.value,
            "lt": actual < self.value,
            "lte": actual <= self.value,
        }[self.op]

    def explain(self, facts: Mapping[str, Any]) -> str:
        actual = facts.get(self.field)
        shown = _show(actual)
        words = {
            "eq": f"{self.field} is {shown}",
            "ne": f"{self.field} is {shown}, not {_show(self.value)}",
            "in": f"{self.field} is {shown} (one of {_show(self.value)})",
            "not_in": f"{self.field} is {shown} (none of {_show(self.value)})",
            "gt": f"{self.field} is {shown} (> {self.value})",
            "gte": f"{self.field} is {shown} (≥ {self.value})",
            "lt": f"{self.field} is {shown} (< {self.value})",
            "lte": f"{self.field} is {shown} (≤ {self.value})",
            "contains": f"{self.field} includes {_show(self.value)}",
            "exists": f"{self.field} is {'set' if self.value else 'not set'}",
        }
        return words[self.op]

    def to_spec(self) -> Any:
        if self.op == "eq":
            return self.value
        if self.op == "in":
            return list(self.value)
        return {self.op: list(self.value) if isinstance(self.value, tuple) else self.value}


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _show(v: Any) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, list | tuple):
        return ", ".join(_show(x) for x in v)
    return "not set" if v is None else str(v)


def parse_conditions(spec: Any, path: str) -> tuple[Condition, ...]:
    """Parse `{field: matcher, ...}` (all must hold). A matcher is a value (equals),
    a list (one of) or `{op: value}` with op in OPERATORS."""
    if not isinstance(spec, Mapping) or not spec:
        raise ConditionError(path, "expected a non-empty mapping of field: matcher")
    out = []
    for fld, matcher in spec.items():
        if not isinstance(fld, str) or not fld:
            raise ConditionError(path, f"field name must be a string, got {fld!r}")
        out.append(_parse_matcher(fld, matcher, f"{path}.{fld}"))
    return tuple(out)


def _parse_matcher(fld: str, matcher: Any, path: str) -> Condition:
    if isinstance(matcher, list):
        return Condition(fld, "in", tuple(matcher))
    if not isinstance(matcher, Mapping):
        return Condition(fld, "eq", matcher)
    if len(matcher) != 1:
        raise ConditionError(path, "an operator mapping has exactly one key, e.g. {gte: 100}")
    op, value = next(iter(matcher.items()))
    if op not in OPERATORS:
        raise ConditionError(path, f"unknown operator {op!r}; use one of {', '.join(OPERATORS)}")
    if op in ("in", "not_in"):
        if not isinstance(value, list):
            raise ConditionError(path, f"{op} takes a list")
        value = tuple(value)
    if op in ("gt", "gte", "lt", "lte") and not _is_number(value):
        raise ConditionError(path, f"{op} takes a number, got {value!r}")
    return Condition(fld, op, value)

"""Incident roles: what a role is (who fills it, at which severities it is assigned by
itself) and the rule that picks the holder — the primary, or the alternate when the primary
is off (a gap in the schedule) or cannot be reached."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .errors import FieldError

SOURCE_TYPES = ("schedule", "person", "service_oncall")
SEVERITIES = ("P1", "P2", "P3", "P4")
KEY = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
BUILT_IN = ("incident_commander", "communications_lead", "engineering_responder",
            "stakeholder_liaison")


@dataclass(frozen=True)
class Source:
    """Where a role's holder comes from: whoever is on call on a schedule, a named person, or
    the first person the incident's service pages (its escalation policy's first step)."""

    type: str
    id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type} | ({"id": self.id} if self.id is not None else {})


@dataclass(frozen=True)
class RoleSpec:
    key: str
    name: str
    responsibilities: str
    primary: Source | None
    alternate: Source | None
    auto_severities: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "name": self.name, "responsibilities": self.responsibilities,
                "primary": self.primary.as_dict() if self.primary else None,
                "alternate": self.alternate.as_dict() if self.alternate else None,
                "auto_severities": list(self.auto_severities)}


def parse(data: Any) -> tuple[RoleSpec | None, list[FieldError]]:
    """`{key, name, responsibilities?, primary?: {type, id}, alternate?, auto_severities?}`,
    or every problem found with its path."""
    if not isinstance(data, dict):
        return None, [FieldError("", "a role is an object with key and name")]
    errors: list[FieldError] = []
    key, name = data.get("key"), data.get("name")
    if not isinstance(key, str) or not KEY.match(key):
        errors.append(FieldError("key", "lower-case letters, digits and _, starting with a "
                                        "letter, at most 60 (e.g. incident_commander)"))
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        errors.append(FieldError("name", "required, at most 100 characters"))
    text = data.get("responsibilities", "")
    if not isinstance(text, str) or len(text) > 5000:
        errors.append(FieldError("responsibilities", "text, at most 5,000 characters"))
    sources = {k: _source(data.get(k), k, errors) for k in ("primary", "alternate")}
    sev = data.get("auto_severities", [])
    if not isinstance(sev, list) or any(s not in SEVERITIES for s in sev):
        errors.append(FieldError("auto_severities", f"a list of {', '.join(SEVERITIES)}"))
    if sources["alternate"] and not sources["primary"]:
        errors.append(FieldError("alternate", "an alternate needs a primary"))
    if errors:
        return None, errors
    return RoleSpec(key, name.strip(), text.strip(), sources["primary"], sources["alternate"],
                    tuple(s for s in SEVERITIES if s in sev)), []


def _source(raw: Any, path: str, errors: list[FieldError]) -> Source | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or raw.get("type") not in SOURCE_TYPES:
        errors.append(FieldError(f"{path}.type", f"one of {', '.join(SOURCE_TYPES)}"))
        return None
    if raw["type"] == "service_oncall":
        return Source("service_oncall")
    ident = raw.get("id")
    if not isinstance(ident, int) or isinstance(ident, bool) or not 1 <= ident <= 2**53:
        errors.append(FieldError(f"{path}.id", f"the id of a {raw['type']}"))
        return None
    return Source(raw["type"], ident)


@dataclass(frozen=True)
class Candidate:
    """Who a source gives now: `user_id` None is a gap; `problem` says why they cannot
    take the role ("" when they can)."""

    source: str            # e.g. "schedule ic-primary"
    user_id: int | None
    name: str = ""
    problem: str = ""


@dataclass(frozen=True)
class Choice:
    user_id: int | None
    reason: str
    alternate: bool = False


def choose(role: str, primary: Candidate | None, alternate: Candidate | None) -> Choice:
    """The primary when they can take the role, else the alternate; the reason says which
    and why, for the timeline."""
    if primary is None:
        return Choice(None, f"{role} has no primary: assign someone by hand")
    why_not = _unfit(primary)
    if not why_not:
        return Choice(primary.user_id, f"{primary.name} is the primary ({primary.source})")
    if alternate is None:
        return Choice(None, f"not assigned: {why_not}, and {role} has no alternate")
    alt_why_not = _unfit(alternate)
    if alt_why_not or alternate.user_id == primary.user_id:
        return Choice(None, f"not assigned: {why_not}; the alternate cannot take it either "
                            f"({alt_why_not or 'the same person'})")
    return Choice(alternate.user_id, f"{alternate.name} is the alternate ({alternate.source}): "
                                     f"{why_not}", alternate=True)


def _unfit(c: Candidate) -> str:
    if c.user_id is None:
        return f"nobody is on call ({c.source})"
    if c.problem:
        return f"{c.name} {c.problem} ({c.source})"
    return ""

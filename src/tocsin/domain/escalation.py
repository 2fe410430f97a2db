"""Escalation policies: ordered steps, each paging its targets and waiting `delay_minutes`
for an acknowledgement before the next step (or the next round) fires."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .errors import FieldError

TARGET_TYPES = ("person", "team", "schedule", "role")
CHANNELS = ("email", "sms", "voice", "chat", "webhook")
MAX_STEPS, MAX_TARGETS, MAX_REPEAT, MAX_DELAY = 20, 20, 9, 24 * 60
MAX_ATTEMPTS = 4            # sends of one page, retries included
FIRST_RETRY_SECONDS = 30    # then doubled each time


@dataclass(frozen=True)
class Target:
    type: str
    id: int


@dataclass(frozen=True)
class Step:
    delay_minutes: int
    targets: tuple[Target, ...]


@dataclass(frozen=True)
class Policy:
    name: str
    repeat: int
    steps: tuple[Step, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "repeat": self.repeat, "steps": [
            {"delay_minutes": s.delay_minutes,
             "targets": [{"type": t.type, "id": t.id} for t in s.targets]} for s in self.steps]}


@dataclass(frozen=True)
class Position:
    round: int
    step: int


def parse(data: Any) -> tuple[Policy | None, list[FieldError]]:
    """A policy from `{name, repeat, steps: [{delay_minutes, targets: [{type, id}]}]}`,
    or every problem found, each with its path."""
    errors: list[FieldError] = []
    if not isinstance(data, dict):
        return None, [FieldError("", "a policy is an object with name, repeat and steps")]
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        errors.append(FieldError("name", "required, at most 100 characters"))
    repeat = data.get("repeat", 0)
    if not _int_in(repeat, 0, MAX_REPEAT):
        errors.append(FieldError("repeat", f"a whole number from 0 to {MAX_REPEAT} (extra rounds)"))
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not 1 <= len(raw_steps) <= MAX_STEPS:
        errors.append(FieldError("steps", f"a list of 1 to {MAX_STEPS} steps"))
        raw_steps = []
    steps = [_step(s, f"steps[{i}]", errors) for i, s in enumerate(raw_steps)]
    if errors:
        return None, errors
    return Policy(name.strip(), repeat, tuple(s for s in steps if s)), []


def _step(raw: Any, path: str, errors: list[FieldError]) -> Step | None:
    if not isinstance(raw, dict):
        errors.append(FieldError(path, "a step is an object with delay_minutes and targets"))
        return None
    delay = raw.get("delay_minutes")
    if not _int_in(delay, 1, MAX_DELAY):
        errors.append(FieldError(f"{path}.delay_minutes",
                                 f"minutes to wait for an acknowledgement, 1 to {MAX_DELAY}"))
    targets = raw.get("targets")
    if not isinstance(targets, list) or not 1 <= len(targets) <= MAX_TARGETS:
        errors.append(FieldError(f"{path}.targets", f"a list of 1 to {MAX_TARGETS} targets"))
        targets = []
    found = []
    for j, t in enumerate(targets):
        where = f"{path}.targets[{j}]"
        if not isinstance(t, dict) or t.get("type") not in TARGET_TYPES:
            errors.append(FieldError(f"{where}.type", f"one of {', '.join(TARGET_TYPES)}"))
            continue
        if not _int_in(t.get("id"), 1, 2**53):
            errors.append(FieldError(f"{where}.id", "the id of a person, team, schedule or role"))
            continue
        found.append(Target(t["type"], t["id"]))
    return Step(delay, tuple(found)) if _int_in(delay, 1, MAX_DELAY) else None


def _int_in(v: Any, lo: int, hi: int) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi


def from_snapshot(data: dict[str, Any]) -> Policy:
    policy, errors = parse(data)
    if policy is None:
        raise ValueError(f"bad policy snapshot: {errors}")
    return policy


def after(policy: Policy, pos: Position) -> Position | None:
    """The step that fires when `pos` has waited its delay unacknowledged; None when the
    last step of the last round has."""
    if pos.step + 1 < len(policy.steps):
        return Position(pos.round, pos.step + 1)
    if pos.round < policy.repeat:
        return Position(pos.round + 1, 0)
    return None


def next_due(policy: Policy, pos: Position, fired_at: datetime) -> datetime:
    """When the step after `pos` (or the end) is due: its own due time plus its delay, so
    a late cycle does not push every later step back."""
    return fired_at + timedelta(minutes=policy.steps[pos.step].delay_minutes)


def check_contact_method(raw: Any, path: str) -> list[FieldError]:
    """`{type, address, label?}`: a channel Tocsin can page on and an address that fits it."""
    if not isinstance(raw, dict):
        return [FieldError(path, "a contact method is an object with type and address")]
    errors = []
    kind, address = raw.get("type"), raw.get("address")
    at = f"{path}." if path else ""
    if kind not in CHANNELS:
        errors.append(FieldError(f"{at}type", f"one of {', '.join(CHANNELS)}"))
    if not isinstance(address, str) or not address.strip() or len(address) > 500:
        errors.append(FieldError(f"{at}address", "required, at most 500 characters"))
    elif kind == "email" and "@" not in address:
        errors.append(FieldError(f"{at}address", "an email address"))
    elif kind == "webhook" and not address.startswith(("http://", "https://")):
        errors.append(FieldError(f"{at}address", "an http:// or https:// URL"))
    return errors


def after_attempt(sent: bool, retryable: bool, attempts: int,
                  now: datetime) -> tuple[str, datetime | None]:
    """A page's state after its `attempts`-th send: sent; pending again (with when) while a
    retryable failure has attempts left; else failed."""
    if sent:
        return "sent", None
    if retryable and attempts < MAX_ATTEMPTS:
        return "pending", now + timedelta(seconds=FIRST_RETRY_SECONDS * 2 ** (attempts - 1))
    return "failed", None


def link_problem(used_at: datetime | None, expires_at: datetime, incident_status: str,
                 now: datetime) -> str:
    """Why an acknowledge link cannot be used now ("" when it can)."""
    if used_at:
        return "it was used already"
    if expires_at <= now:
        return "it has expired"
    if incident_status != "triggered":
        return f"the incident is {incident_status} already"
    return ""

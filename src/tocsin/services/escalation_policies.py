"""Escalation policies: create and read them (API), and write and read them as
configuration (`escalation_policies:` in YAML, people by email and teams by name)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..domain import escalation as dom
from ..domain.auth import Actor
from ..domain.conditions import ConditionError, mapping_with, raise_first
from ..domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from ..store.models import EscalationPolicy
from ..store.uow import UnitOfWork
from .common import actor_label


@dataclass(frozen=True)
class PolicyView:
    id: int
    name: str
    description: str
    repeat: int
    steps: list[dict[str, Any]]


def _view(p: EscalationPolicy) -> PolicyView:
    return PolicyView(p.id, p.name, p.description, p.repeat, list(p.steps))


def _checked(uow: UnitOfWork, data: dict[str, Any]) -> dom.Policy:
    policy, errors = dom.parse(data)
    if policy is None:
        raise ValidationFailed(errors, "invalid escalation policy")
    for i, step in enumerate(policy.steps):
        for j, t in enumerate(step.targets):
            found = target(uow, t.type, t.id)
            if found is None:
                raise ValidationFailed([FieldError(f"steps[{i}].targets[{j}].id",
                                                   f"no {t.type} {t.id}")],
                                       "invalid escalation policy")
    return policy


def create_policy(uow: UnitOfWork, actor: Actor, data: dict[str, Any]) -> PolicyView:
    actor.require("config:write")
    with uow:
        policy = _checked(uow, data)
        if uow.policies.by_name(policy.name):
            raise Conflict(f"an escalation policy named {policy.name!r} exists already")
        now = uow.clock.now()
        row = uow.policies.add(EscalationPolicy(
            name=policy.name, description=str(data.get("description") or "")[:2000],
            repeat=policy.repeat, steps=policy.as_dict()["steps"], created_at=now,
            updated_at=now))
        uow.record(actor_label(actor), "escalation_policy.create", f"escalation_policy:{row.id}",
                   policy.as_dict())
        view = _view(row)
        uow.commit()
        return view


def list_policies(uow: UnitOfWork) -> list[PolicyView]:
    with uow:
        return [_view(p) for p in uow.policies.list()]


def get_policy(uow: UnitOfWork, policy_id: int) -> PolicyView:
    with uow:
        row = uow.policies.get(policy_id)
        if row is None:
            raise NotFound(f"no escalation policy {policy_id}")
        return _view(row)



# A policy's targets by type: found by id, by the name config files use, and named.
_BY_ID = {"person": lambda uow, i: uow.users.get(i), "team": lambda uow, i: uow.teams.get(i),
          "schedule": lambda uow, i: uow.schedules.get(i), "role": lambda uow, i: uow.roles.get(i)}
_BY_NAME = {"person": lambda uow, n: uow.users.by_email(n.lower()),
            "team": lambda uow, n: uow.teams.by_name(n),
            "schedule": lambda uow, n: uow.schedules.by_name(n),
            "role": lambda uow, n: uow.roles.by_key(n)}
_LABEL = {"person": lambda r: r.email, "team": lambda r: r.name, "schedule": lambda r: r.name,
          "role": lambda r: r.key}


def target(uow: UnitOfWork, kind: str, target_id: int) -> Any:
    return _BY_ID[kind](uow, target_id)


# --- as configuration -----------------------------------------------------------------


def _with_ids(spec: Any, path: str, resolve: Any) -> dict[str, Any]:
    """A policy as written in YAML (targets `{person: email}`, `{team: name}`, `{schedule:
    name}`, `{role: key}`) in the API's form (`{type, id}`), ids from `resolve(type, name, path)`."""
    spec = mapping_with(spec, path, {"name", "description", "repeat", "steps"},
                        "an escalation policy is a mapping with name, repeat and steps")
    steps = spec.get("steps")
    if not isinstance(steps, list):
        return dict(spec)
    out = []
    for i, step in enumerate(steps):
        if not isinstance(step, dict):
            out.append(step)
            continue
        targets = []
        for j, t in enumerate(step.get("targets") or []):
            where = f"{path}.steps[{i}].targets[{j}]"
            if not isinstance(t, dict) or len(t) != 1 or next(iter(t)) not in dom.TARGET_TYPES:
                raise ConditionError(where, "one of {person: EMAIL}, {team: NAME}, "
                                            "{schedule: NAME} or {role: KEY}")
            kind, name = next(iter(t.items()))
            targets.append({"type": kind, "id": resolve(kind, name, where)})
        out.append({**step, "targets": targets})
    return {**spec, "steps": out}


def check_yaml(spec: Any, path: str) -> str:
    """Structure only (who the targets are is checked when applied)."""
    policy, errors = dom.parse(_with_ids(spec, path, lambda *_: 1))
    raise_first(errors, path)
    return policy.name


def apply_yaml(uow: UnitOfWork, spec: dict, path: str) -> list[tuple[str, str]]:
    """Create or update a policy from YAML (config apply); the problems found, by path."""
    problems: list[tuple[str, str]] = []

    def resolve(kind: str, name: Any, where: str) -> int:
        found = _BY_NAME[kind](uow, str(name))
        if found is None:
            problems.append((f"{where}.{kind}", f"no {kind} {name!r}"))
            return 1
        return found.id

    policy = dom.from_snapshot(_with_ids(spec, path, resolve))
    now = uow.clock.now()
    row = uow.policies.by_name(policy.name) or uow.policies.add(EscalationPolicy(
        name=policy.name, steps=[], created_at=now, updated_at=now))
    row.description, row.repeat = str(spec.get("description") or ""), policy.repeat
    row.steps, row.updated_at = policy.as_dict()["steps"], now
    return problems


def to_yaml(uow: UnitOfWork, p: EscalationPolicy) -> dict[str, Any]:
    """A policy as config YAML: people by email, teams and schedules by name."""
    def name_of(t: dict[str, Any]) -> dict[str, str]:
        found = target(uow, t["type"], t["id"])
        return {t["type"]: _LABEL[t["type"]](found) if found else f"#{t['id']}"}

    return {"name": p.name, "description": p.description, "repeat": p.repeat,
            "steps": [{"delay_minutes": st["delay_minutes"],
                       "targets": [name_of(t) for t in st["targets"]]} for st in p.steps]}


def list_as_config(uow: UnitOfWork) -> list[dict[str, Any]]:
    with uow:
        return [to_yaml(uow, p) for p in uow.policies.list()]

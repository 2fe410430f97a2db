"""Incident roles and playbooks as configuration (`incident_roles:` and `playbooks:` in
YAML): schedules by name, people by email; checked, applied and exported."""

from __future__ import annotations

from typing import Any

from ..domain import checkpoints as cp
from ..domain import roles as dom
from ..domain.conditions import ConditionError, mapping_with, raise_first
from ..store.uow import UnitOfWork
from . import checkpoints, roles

ROLE_FIELDS = {"key", "name", "responsibilities", "primary", "alternate", "auto_assign"}
SOURCE_HELP = "service_oncall, {schedule: NAME} or {person: EMAIL}"


def _with_ids(spec: Any, path: str, resolve: Any) -> dict[str, Any]:
    """A role as written in YAML in the API's form, ids from `resolve(type, name, path)`."""
    spec = mapping_with(spec, path, ROLE_FIELDS, "a role is a mapping with key and name")
    out = {k: v for k, v in spec.items() if k not in ("primary", "alternate", "auto_assign")}
    out["auto_severities"] = spec.get("auto_assign", [])
    for field in ("primary", "alternate"):
        raw = spec.get(field)
        if raw is None:
            continue
        if raw == "service_oncall":
            out[field] = {"type": "service_oncall"}
            continue
        if not isinstance(raw, dict) or len(raw) != 1 or next(iter(raw)) not in ("schedule",
                                                                                 "person"):
            raise ConditionError(f"{path}.{field}", f"one of {SOURCE_HELP}")
        kind, name = next(iter(raw.items()))
        out[field] = {"type": kind, "id": resolve(kind, name, f"{path}.{field}.{kind}")}
    return out


def check_role(spec: Any, path: str) -> str:
    role, errors = dom.parse(_with_ids(spec, path, lambda *_: 1))
    raise_first(errors, path, {"auto_severities": "auto_assign"})
    return role.key


def check_playbook(spec: Any, path: str) -> str:
    playbook, errors = cp.parse(spec)
    raise_first(errors, path)
    return playbook.severity


def apply_roles(uow: UnitOfWork, specs: list[Any], path: str) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []

    def resolve(kind: str, name: Any, where: str) -> int:
        found = (uow.schedules.by_name(str(name)) if kind == "schedule"
                 else uow.users.by_email(str(name)))
        if found is None:
            problems.append((where, f"no {kind} {name!r}"))
            return 1
        return found.id

    for i, spec in enumerate(specs):
        role, _ = dom.parse(_with_ids(spec, f"{path}[{i}]", resolve))
        roles.save_in(uow, role, position=i)
    return problems


def apply_playbooks(uow: UnitOfWork, specs: list[Any], path: str) -> list[tuple[str, str]]:
    keys = {r.key for r in uow.roles.list()}
    problems = []
    for i, spec in enumerate(specs):
        playbook, _ = cp.parse(spec)
        for j, c in enumerate(playbook.checkpoints):
            if c.role and c.role not in keys:
                problems.append((f"{path}[{i}].checkpoints[{j}].role",
                                 f"no incident role {c.role!r}"))
        checkpoints.save_in(uow, playbook)
    return problems


def export_roles(uow: UnitOfWork) -> list[dict[str, Any]]:
    def named(src: dict[str, Any] | None) -> Any:
        if src is None or src["type"] == "service_oncall":
            return src and "service_oncall"
        if src["type"] == "schedule":
            row = uow.schedules.get(src["id"])
            return {"schedule": row.name if row else f"#{src['id']}"}
        user = uow.users.get(src["id"])
        return {"person": user.email if user else f"#{src['id']}"}

    out = []
    for r in uow.roles.list():
        item: dict[str, Any] = {"key": r.key, "name": r.name}
        if r.responsibilities:
            item["responsibilities"] = r.responsibilities
        for field in ("primary", "alternate"):
            if getattr(r, field):
                item[field] = named(getattr(r, field))
        if r.auto_severities:
            item["auto_assign"] = list(r.auto_severities)
        out.append(item)
    return out


def export_playbooks(uow: UnitOfWork) -> list[dict[str, Any]]:
    return [dict(r.spec) for r in uow.playbooks.list()]

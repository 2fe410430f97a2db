"""On-call schedules as configuration (`schedules:` in YAML): members by email; checked,
applied (created or replaced by name, keeping the iCal feed's secret) and exported."""

from __future__ import annotations

import secrets
from typing import Any

from ..domain import schedule as sch
from ..domain.conditions import mapping_with, raise_first
from ..store.models import ScheduleRow
from ..store.uow import UnitOfWork

FIELDS = {"name", "time_zone", "layers"}


def _clock(v: Any) -> Any:
    """YAML 1.1 reads an unquoted 09:00 as the base-60 number 540: read it back as a time."""
    if isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 24 * 60:
        return f"{v // 60:02d}:{v % 60:02d}"
    return v


def _with_ids(spec: Any, path: str, resolve: Any) -> dict[str, Any]:
    spec = mapping_with(spec, path, FIELDS, "a schedule is a mapping with name, time_zone and "
                                            "layers")
    layers = []
    for i, layer in enumerate(spec.get("layers") or []):
        if not isinstance(layer, dict):
            layers.append(layer)
            continue
        where = f"{path}.layers[{i}]"
        members = layer.get("members")
        if isinstance(members, list):
            members = [resolve(m, f"{where}.members[{j}]") for j, m in enumerate(members)]
        windows = [{**w, "start": _clock(w.get("start")), "end": _clock(w.get("end"))}
                   if isinstance(w, dict) else w for w in layer.get("restrictions") or []]
        layers.append({**layer, "members": members, "start": str(layer.get("start")),
                       "handoff": _clock(layer.get("handoff", "09:00")),
                       "restrictions": windows})
    return {**spec, "layers": layers if "layers" in spec else None}


def check_yaml(spec: Any, path: str) -> str:
    schedule, errors = sch.parse(_with_ids(spec, path, lambda *_: 1))
    raise_first(errors, path)
    return schedule.name


def apply_yaml(uow: UnitOfWork, specs: list[Any], path: str) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []

    def resolve(email: Any, where: str) -> int:
        user = uow.users.by_email(str(email))
        if user is None:
            problems.append((where, f"no person {email!r}"))
            return 1
        return user.id

    now = uow.clock.now()
    for i, spec in enumerate(specs):
        schedule, _ = sch.parse(_with_ids(spec, f"{path}[{i}]", resolve))
        row = uow.schedules.by_name(schedule.name) or uow.schedules.add(ScheduleRow(
            name=schedule.name, time_zone=schedule.time_zone, spec={},
            feed_token=secrets.token_urlsafe(24), created_at=now, updated_at=now))
        row.time_zone, row.spec, row.updated_at = schedule.time_zone, sch.as_dict(schedule), now
    return problems


def export(uow: UnitOfWork) -> list[dict[str, Any]]:
    out = []
    for row in uow.schedules.list():
        layers = []
        for layer in row.spec["layers"]:
            item = {k: v for k, v in layer.items() if v not in ([], None)}
            if item.get("rotation") != "custom":
                item.pop("length_days", None)
            item["members"] = [(u.email if (u := uow.users.get(m)) else f"#{m}")
                               for m in layer["members"]]
            layers.append(item)
        out.append({"name": row.name, "time_zone": row.time_zone, "layers": layers})
    return out

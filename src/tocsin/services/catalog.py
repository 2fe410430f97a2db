"""Services and teams: create, change, list."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..domain.auth import Actor
from ..domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from ..store.models import Service, Team
from ..store.uow import UnitOfWork
from .common import actor_label, need_service, person_ref, service_view
from .views import ServiceView, TeamView

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$")


def name_problem(name: str) -> str | None:
    """Service and team names appear in URLs and matchers: keep them plain."""
    if not NAME.match(name):
        return ("required: 1–100 letters, digits, spaces, '.', '_' or '-', starting with a "
                "letter or digit")
    if name.isdigit():
        return "cannot be only digits (it would read as an id)"
    return None


@dataclass
class ServiceInput:
    name: str
    description: str = ""
    tier: int = 3
    tags: list[str] | None = None
    team: str | None = None
    owner_email: str | None = None


def _check_service(uow: UnitOfWork, data: ServiceInput) -> tuple[int | None, int | None]:
    errors = []
    name = (data.name or "").strip()
    problem = name_problem(name)
    if problem:
        errors.append(FieldError("name", problem))
    if not 1 <= data.tier <= 4:
        errors.append(FieldError("tier", "must be 1 (most critical) to 4"))
    team_id = owner_id = None
    if data.team:
        team = uow.teams.by_name(data.team)
        if team is None:
            errors.append(FieldError("team", f"no team {data.team!r}"))
        else:
            team_id = team.id
    if data.owner_email:
        owner = uow.users.by_email(data.owner_email)
        if owner is None:
            errors.append(FieldError("owner_email", f"no person {data.owner_email!r}"))
        else:
            owner_id = owner.id
    if errors:
        raise ValidationFailed(errors, "invalid service")
    return team_id, owner_id


def create_service(uow: UnitOfWork, actor: Actor, data: ServiceInput) -> ServiceView:
    actor.require("config:write")
    with uow:
        team_id, owner_id = _check_service(uow, data)
        if uow.services.by_name(data.name.strip()):
            raise Conflict(f"a service named {data.name!r} exists already")
        svc = uow.services.add(Service(
            name=data.name.strip(), description=data.description, tier=data.tier,
            tags=list(data.tags or []), team_id=team_id, owner_id=owner_id,
            created_at=uow.clock.now()))
        uow.record(actor_label(actor), "service.create", f"service:{svc.id}",
                   {"name": svc.name, "tier": svc.tier, "tags": svc.tags})
        view = service_view(uow, svc)
        uow.commit()
        return view


def update_service(uow: UnitOfWork, actor: Actor, ref: str | int, changes: dict) -> ServiceView:
    actor.require("config:write")
    fields = {k: v for k, v in changes.items() if k != "escalation_policy_id"}
    with uow:
        svc = need_service(uow, ref)
        if "escalation_policy_id" in changes:
            policy_id = changes["escalation_policy_id"]
            if policy_id is not None and uow.policies.get(policy_id) is None:
                raise ValidationFailed([FieldError("escalation_policy_id",
                                                   f"no escalation policy {policy_id}")],
                                       "invalid service")
            svc.escalation_policy_id = policy_id
        current = ServiceInput(svc.name, svc.description, svc.tier, svc.tags, None, None)
        merged = ServiceInput(**{**current.__dict__, **fields})
        team_id, owner_id = _check_service(uow, merged)
        if merged.name != svc.name and uow.services.by_name(merged.name):
            raise Conflict(f"a service named {merged.name!r} exists already")
        svc.name, svc.description, svc.tier = merged.name.strip(), merged.description, merged.tier
        svc.tags = list(merged.tags or [])
        if "team" in changes:
            svc.team_id = team_id
        if "owner_email" in changes:
            svc.owner_id = owner_id
        uow.record(actor_label(actor), "service.update", f"service:{svc.id}", dict(changes))
        view = service_view(uow, svc)
        uow.commit()
        return view


def list_services(uow: UnitOfWork) -> list[ServiceView]:
    with uow:
        return [service_view(uow, s) for s in uow.services.list()]


def get_service(uow: UnitOfWork, ref: str | int) -> ServiceView:
    with uow:
        return service_view(uow, need_service(uow, ref))


def _team_view(uow: UnitOfWork, t: Team) -> TeamView:
    members = [person_ref(uow.users.get(uid)) for uid in uow.teams.member_ids(t.id)]
    return TeamView(t.id, t.name, t.description, sorted(
        (m for m in members if m), key=lambda p: p.name))


def list_teams(uow: UnitOfWork) -> list[TeamView]:
    with uow:
        return [_team_view(uow, t) for t in uow.teams.list()]


def create_team(uow: UnitOfWork, actor: Actor, name: str, description: str = "",
                member_emails: list[str] | None = None) -> TeamView:
    actor.require("config:write")
    with uow:
        problem = name_problem(name.strip())
        if problem:
            raise ValidationFailed([FieldError("name", problem)], "invalid team")
        if uow.teams.by_name(name.strip()):
            raise Conflict(f"a team named {name!r} exists already")
        team = uow.teams.add(Team(name=name.strip(), description=description))
        ids = []
        for email in member_emails or []:
            user = uow.users.by_email(email)
            if user is None:
                raise NotFound(f"no person {email!r}")
            ids.append(user.id)
        uow.teams.set_members(team.id, ids)
        uow.record(actor_label(actor), "team.create", f"team:{team.id}",
                   {"name": team.name, "members": member_emails or []})
        uow.session.flush()
        view = _team_view(uow, team)
        uow.commit()
        return view

"""Helpers shared by use cases: actor labels, view builders, lookups that raise NotFound."""

from __future__ import annotations

from ..domain.auth import Actor
from ..domain.errors import NotFound
from ..domain.severity import SeverityLevel
from ..store.models import Service, SeverityLevelRow, User
from ..store.uow import UnitOfWork
from .views import LevelView, PersonRef, ServiceView


def actor_label(actor: Actor) -> str:
    return f"{actor.name} (#{actor.user_id})" if actor.user_id else actor.name


def person_ref(user: User | None) -> PersonRef | None:
    return PersonRef(user.id, user.name, user.email) if user else None


def service_view(uow: UnitOfWork, s: Service) -> ServiceView:
    team = uow.teams.get(s.team_id) if s.team_id else None
    owner = uow.users.get(s.owner_id) if s.owner_id else None
    policy = uow.policies.get(s.escalation_policy_id) if s.escalation_policy_id else None
    return ServiceView(s.id, s.name, s.description, s.tier, list(s.tags or []),
                       team.name if team else None, person_ref(owner),
                       policy.id if policy else None, policy.name if policy else None)


def need_service(uow: UnitOfWork, ref: str | int) -> Service:
    svc = uow.services.resolve(ref)
    if svc is None:
        raise NotFound(f"no service {ref!r}")
    return svc


def level_of(row: SeverityLevelRow) -> SeverityLevel:
    return SeverityLevel(row.code, row.name, row.description, row.ack_within_minutes,
                         row.update_every_minutes, row.coverage)


def level_view(row: SeverityLevelRow) -> LevelView:
    return LevelView(row.code, row.name, row.description, row.ack_within_minutes,
                     row.update_every_minutes, row.coverage)


def service_facts(s: Service) -> dict:
    return {"name": s.name, "tier": s.tier, "tags": list(s.tags or [])}

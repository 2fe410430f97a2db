"""People to page: a person (a user, with or without a password) and their contact methods."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..domain.auth import Actor
from ..domain.errors import NotFound, ValidationFailed
from ..domain.escalation import check_contact_method
from ..store.models import ContactMethod, User
from ..store.uow import UnitOfWork
from .common import actor_label
from .users import add_user, check_user


@dataclass(frozen=True)
class ContactMethodView:
    id: int
    type: str
    address: str
    label: str
    verified_at: datetime | None


@dataclass(frozen=True)
class PersonView:
    id: int
    name: str
    email: str
    time_zone: str
    role: str
    active: bool
    contact_methods: list[ContactMethodView] = field(default_factory=list)


def person_view(uow: UnitOfWork, u: User) -> PersonView:
    return PersonView(u.id, u.name, u.email, u.time_zone, u.role, u.active,
                      [ContactMethodView(m.id, m.type, m.address, m.label, m.verified_at)
                       for m in uow.people.methods(u.id)])


def create_person(uow: UnitOfWork, actor: Actor, name: str, email: str, time_zone: str = "UTC",
                  contact_methods: list[dict[str, Any]] | None = None,
                  role: str = "responder") -> PersonView:
    """A person who can be paged; they sign in only once an admin gives them a password."""
    actor.require("users:admin")
    email = (email or "").strip().lower()
    methods = list(contact_methods or [])
    errors = [e for i, m in enumerate(methods)
              for e in check_contact_method(m, f"contact_methods[{i}]")]
    try:
        check_user(email, None, role, time_zone, name)
    except ValidationFailed as exc:
        errors = list(exc.errors) + errors
    if errors:
        raise ValidationFailed(errors, "invalid person")
    with uow:
        user = add_user(uow, email, None, role, name, time_zone)
        for m in methods:
            _add_method(uow, user.id, m)
        uow.record(actor_label(actor), "person.create", f"user:{user.id}",
                   {"email": email, "contact_methods": [m["type"] for m in methods]})
        view = person_view(uow, user)
        uow.commit()
        return view


def add_contact_method(uow: UnitOfWork, actor: Actor, user_id: int,
                       raw: dict[str, Any]) -> PersonView:
    if actor.user_id != user_id:
        actor.require("users:admin")
    errors = check_contact_method(raw, "")
    if errors:
        raise ValidationFailed(errors, "invalid contact method")
    with uow:
        user = _need(uow, user_id)
        _add_method(uow, user.id, raw)
        uow.record(actor_label(actor), "person.contact_method.add", f"user:{user.id}",
                   {"type": raw["type"]})
        view = person_view(uow, user)
        uow.commit()
        return view


def _add_method(uow: UnitOfWork, user_id: int, m: dict[str, Any]) -> None:
    uow.people.add_method(ContactMethod(user_id=user_id, type=m["type"],
                                        address=m["address"].strip(),
                                        label=str(m.get("label") or "")[:100],
                                        created_at=uow.clock.now()))


def list_people(uow: UnitOfWork) -> list[PersonView]:
    with uow:
        return [person_view(uow, u) for u in uow.users.list()]


def get_person(uow: UnitOfWork, user_id: int) -> PersonView:
    with uow:
        return person_view(uow, _need(uow, user_id))


def _need(uow: UnitOfWork, user_id: int) -> User:
    user = uow.users.get(user_id)
    if user is None:
        raise NotFound(f"no person {user_id}")
    return user

"""People to page: a person (a user, with or without a password) and their contact methods."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..domain.auth import Actor
from ..domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from ..domain.escalation import CHANNELS
from ..store.models import ContactMethod, User
from ..store.uow import UnitOfWork
from .common import actor_label
from .users import _check


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


def check_method(raw: Any, path: str) -> list[FieldError]:
    if not isinstance(raw, dict):
        return [FieldError(path, "a contact method is an object with type and address")]
    errors = []
    kind, address = raw.get("type"), raw.get("address")
    if kind not in CHANNELS:
        errors.append(FieldError(f"{path}.type", f"one of {', '.join(CHANNELS)}"))
    if not isinstance(address, str) or not address.strip() or len(address) > 500:
        errors.append(FieldError(f"{path}.address", "required, at most 500 characters"))
    elif kind == "email" and "@" not in address:
        errors.append(FieldError(f"{path}.address", "an email address"))
    elif kind == "webhook" and not address.startswith(("http://", "https://")):
        errors.append(FieldError(f"{path}.address", "an http:// or https:// URL"))
    return errors


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
    errors = [e for i, m in enumerate(methods) for e in check_method(m, f"contact_methods[{i}]")]
    try:
        _check(email, None, role, time_zone, name)
    except ValidationFailed as exc:
        errors = list(exc.errors) + errors
    if errors:
        raise ValidationFailed(errors, "invalid person")
    with uow:
        if uow.users.by_email(email):
            raise Conflict(f"a person with email {email!r} exists already")
        now = uow.clock.now()
        user = uow.users.add(User(email=email, name=name.strip(), password_hash=None, role=role,
                                  time_zone=time_zone, phone=None, active=True, created_at=now))
        for m in methods:
            uow.people.add_method(ContactMethod(user_id=user.id, type=m["type"],
                                                address=m["address"].strip(),
                                                label=str(m.get("label") or "")[:100],
                                                created_at=now))
        uow.record(actor_label(actor), "person.create", f"user:{user.id}",
                   {"email": email, "contact_methods": [m["type"] for m in methods]})
        view = person_view(uow, user)
        uow.commit()
        return view


def add_contact_method(uow: UnitOfWork, actor: Actor, user_id: int,
                       raw: dict[str, Any]) -> PersonView:
    if actor.user_id != user_id:
        actor.require("users:admin")
    errors = check_method(raw, "")
    if errors:
        raise ValidationFailed(errors, "invalid contact method")
    with uow:
        user = _need(uow, user_id)
        uow.people.add_method(ContactMethod(user_id=user.id, type=raw["type"],
                                            address=raw["address"].strip(),
                                            label=str(raw.get("label") or "")[:100],
                                            created_at=uow.clock.now()))
        uow.record(actor_label(actor), "person.contact_method.add", f"user:{user.id}",
                   {"type": raw["type"]})
        view = person_view(uow, user)
        uow.commit()
        return view


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

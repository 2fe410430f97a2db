"""People to page: a person (a user, with or without a password) and their contact methods."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..domain import contact_verification as verification
from ..domain.auth import Actor
from ..domain.errors import NotFound, ValidationFailed
from ..domain.escalation import check_contact_method
from ..store.models import ContactMethod, ContactVerification, Notification, User
from ..store.uow import UnitOfWork
from .common import actor_label
from .users import add_user, check_user


@dataclass(frozen=True)
class VerificationView:
    """The latest test message of a contact method and what its code can still do."""

    id: int
    requested_at: datetime
    requested_by: str
    status: str             # of the test message: pending | sending | sent | failed | unknown
    sent_at: datetime | None
    last_error: str
    expires_at: datetime
    verified_at: datetime | None
    usable: bool            # its code or link can still verify the contact method
    why_not: str
    attempts_left: int


@dataclass(frozen=True)
class ContactMethodView:
    id: int
    type: str
    address: str
    label: str
    verified_at: datetime | None
    verified: bool = False
    last_test: VerificationView | None = None


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
                      method_views(uow, uow.people.methods(u.id)))


def method_views(uow: UnitOfWork, methods: Sequence[ContactMethod]) -> list[ContactMethodView]:
    """Contact methods with their verification and latest test (a few queries in all)."""
    tests = uow.people.latest_verifications([m.id for m in methods])
    uow.notifications.preload(Notification, (t.notification_id for t in tests.values()))
    now = uow.clock.now()
    out = []
    for m in methods:
        t = tests.get(m.id)
        out.append(ContactMethodView(m.id, m.type, m.address, m.label, m.verified_at,
                                     m.verified_at is not None,
                                     _verification_view(uow, t, m, now) if t else None))
    return out


def _verification_view(uow: UnitOfWork, t: ContactVerification, m: ContactMethod,
                       now: datetime) -> VerificationView:
    n = uow.notifications.get(t.notification_id) if t.notification_id else None
    st = code_state(t, m, now)
    return VerificationView(t.id, t.created_at, t.requested_by, n.status if n else "cancelled",
                            n.sent_at if n else None, n.last_error if n else "", t.expires_at,
                            t.verified_at, st.usable, st.why_not, st.attempts_left)


def code_state(t: ContactVerification, m: ContactMethod, now: datetime) -> verification.CodeState:
    return verification.state(sent=t.code_hash is not None, verified_at=t.verified_at,
                              expires_at=t.expires_at, wrong_codes=t.wrong_codes,
                              address_then=t.address, address_now=m.address, now=now)


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
        user = need_person(uow, user_id)
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


def update_contact_method(uow: UnitOfWork, actor: Actor, user_id: int, method_id: int,
                          raw: dict[str, Any]) -> PersonView:
    """A new address or label (not a new channel: add another method). A new address is
    unverified, and a test sent to the old one no longer verifies anything."""
    if actor.user_id != user_id:
        actor.require("users:admin")
    with uow:
        user = need_person(uow, user_id)
        m = need_method(uow, user_id, method_id)
        new = {"type": m.type, "address": raw.get("address", m.address),
               "label": raw.get("label", m.label)}
        errors = check_contact_method(new, "")
        if errors:
            raise ValidationFailed(errors, "invalid contact method")
        address = new["address"].strip()
        moved = address != m.address
        if moved:
            m.verified_at = None
            _cancel_pending_test(uow, m.id)
        m.address, m.label = address, str(new["label"] or "")[:100]
        uow.record(actor_label(actor), "person.contact_method.update", f"user:{user.id}",
                   {"contact_method_id": m.id, "address_changed": moved})
        view = person_view(uow, user)
        uow.commit()
        return view


def _cancel_pending_test(uow: UnitOfWork, method_id: int) -> None:
    t = uow.people.latest_verifications([method_id]).get(method_id)
    n = uow.notifications.get(t.notification_id) if t and t.notification_id else None
    if n is not None and n.status == "pending":
        n.status, n.next_attempt_at, n.last_error = ("cancelled", None,
                                                     "the contact method's address changed")


def need_method(uow: UnitOfWork, user_id: int, method_id: int) -> ContactMethod:
    m = uow.people.method(method_id)
    if m is None or m.user_id != user_id:
        raise NotFound(f"person {user_id} has no contact method {method_id}")
    return m


def list_people(uow: UnitOfWork) -> list[PersonView]:
    with uow:
        methods = uow.people.all_methods()
        mine: dict[int, list[ContactMethodView]] = {}
        for m, v in zip(methods, method_views(uow, methods), strict=True):
            mine.setdefault(m.user_id, []).append(v)
        return [PersonView(u.id, u.name, u.email, u.time_zone, u.role, u.active,
                           mine.get(u.id, [])) for u in uow.users.list()]


def get_person(uow: UnitOfWork, user_id: int) -> PersonView:
    with uow:
        return person_view(uow, need_person(uow, user_id))


def need_person(uow: UnitOfWork, user_id: int) -> User:
    user = uow.users.get(user_id)
    if user is None:
        raise NotFound(f"no person {user_id}")
    return user

"""A person's notification rules ("email and SMS at once, voice after 5 minutes"): read and
replace them, and what the escalator sends when a step pages the person."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..domain import notification_rules as dom
from ..domain.auth import Actor
from ..domain.errors import ValidationFailed
from ..store.models import ContactMethod, NotificationRule
from ..store.uow import UnitOfWork
from . import people
from .common import actor_label


@dataclass(frozen=True)
class RuleView:
    contact_method_id: int
    type: str
    address: str
    verified: bool
    delay_minutes: int
    urgency: str | None


@dataclass(frozen=True)
class RulesView:
    person_id: int
    rules: list[RuleView]
    default: bool               # no rules: every contact method at once
    summary: dict[str, str]     # urgency -> what a page sends: "email, sms; voice after 5 min"


def get_rules(uow: UnitOfWork, user_id: int) -> RulesView:
    with uow:
        people.need_person(uow, user_id)
        return _view(user_id, uow.people.methods(user_id), uow.people.rules(user_id))


def all_rules(uow: UnitOfWork) -> dict[int, RulesView]:
    """Everyone's rules (the People page), in two queries."""
    with uow:
        methods: dict[int, list[ContactMethod]] = {}
        for m in uow.people.all_methods():
            methods.setdefault(m.user_id, []).append(m)
        rules: dict[int, list[NotificationRule]] = {}
        for r in uow.people.rules():
            rules.setdefault(r.user_id, []).append(r)
        return {u.id: _view(u.id, methods.get(u.id, []), rules.get(u.id, []))
                for u in uow.users.list()}


def put_rules(uow: UnitOfWork, actor: Actor, user_id: int, raw: Any) -> RulesView:
    """Replace a person's rules (their own, or anyone's for an admin); an empty list goes
    back to the default, every contact method at once."""
    if actor.user_id != user_id:
        actor.require("users:admin")
    with uow:
        people.need_person(uow, user_id)
        methods = uow.people.methods(user_id)
        rules, errors = dom.parse(raw, [m.id for m in methods])
        if rules is None:
            raise ValidationFailed(errors, "invalid notification rules")
        rows = [NotificationRule(user_id=user_id, position=i, contact_method_id=r.contact_method_id,
                                 delay_minutes=r.delay_minutes, urgency=r.urgency)
                for i, r in enumerate(rules)]
        uow.people.replace_rules(user_id, rows)
        uow.record(actor_label(actor), "person.notification_rules.set", f"user:{user_id}",
                   {"rules": [[r.contact_method_id, r.delay_minutes, r.urgency] for r in rules]})
        view = _view(user_id, methods, rows)
        uow.commit()
        return view


def _view(user_id: int, methods: Sequence[ContactMethod],
          rows: Sequence[NotificationRule]) -> RulesView:
    by_id = {m.id: m for m in methods}
    rules = _rules(rows)
    summary = {}
    for u, severity in (("high", "P1"), ("low", "P3")):
        planned = dom.plan(rules, list(by_id), severity)
        summary[u] = (dom.describe(planned, {m.id: m.type for m in methods})
                      or "nothing: no contact method")
    return RulesView(user_id, [RuleView(r.contact_method_id, by_id[r.contact_method_id].type,
                                        by_id[r.contact_method_id].address,
                                        by_id[r.contact_method_id].verified_at is not None,
                                        r.delay_minutes, r.urgency)
                               for r in rows if r.contact_method_id in by_id],
                     not rows, summary)


def _rules(rows: Sequence[NotificationRule]) -> tuple[dom.Rule, ...]:
    return tuple(dom.Rule(r.contact_method_id, r.delay_minutes, r.urgency) for r in rows)


# --- the escalator's part -------------------------------------------------------------------


@dataclass(frozen=True)
class Contacts:
    """A person's contact methods and rules, read once per escalator batch."""

    methods: tuple[ContactMethod, ...]
    rules: tuple[dom.Rule, ...]


def contacts_of(uow: UnitOfWork, user_id: int) -> Contacts:
    return Contacts(tuple(uow.people.methods(user_id)), _rules(uow.people.rules(user_id)))


def pages_for(c: Contacts, severity: str | None) -> list[tuple[ContactMethod, int]]:
    """(contact method, minutes to wait) for each page a step sends this person. Unverified
    methods are paged too: a new hire must not miss a P1."""
    by_id = {m.id: m for m in c.methods}
    return [(by_id[p.contact_method_id], p.delay_minutes)
            for p in dom.plan(c.rules, list(by_id), severity)]


def describe(pages: Sequence[tuple[ContactMethod, int]]) -> str:
    """`email, sms; voice after 5 min` (for the timeline)."""
    return dom.describe([dom.Planned(m.id, d) for m, d in pages], {m.id: m.type for m, _ in pages})

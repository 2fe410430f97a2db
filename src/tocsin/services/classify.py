"""Choosing the intake form and classifying an event (kind, P1–P4, reason) by the rules."""

from __future__ import annotations

from typing import Any

from ..domain import forms as formdom
from ..domain.conditions import ConditionError
from ..domain.errors import FieldError, NotFound, ValidationFailed
from ..domain.severity import (
    Classification,
    Fallback,
    SeverityRule,
    classify,
    facts_for,
    parse_rule,
)
from ..store.models import Form, Service
from ..store.uow import UnitOfWork
from .common import level_view, need_service, service_facts
from .views import ClassificationView

DEFAULT_FORM = "default"


def load_rules(uow: UnitOfWork) -> list[SeverityRule]:
    rules = []
    for row in uow.severity.rules():
        try:
            rules.append(parse_rule(row.spec, f"severity_rules[{row.position}]"))
        except ConditionError:  # stored rules were validated on the way in
            continue
    return rules


def load_fallback(uow: UnitOfWork) -> Fallback:
    fb = uow.settings.get("severity_fallback") or {}
    return Fallback(fb.get("kind", "issue"), fb.get("severity", "P3"))


def form_def(row: Form) -> formdom.FormDef:
    return formdom.parse_form(row.spec, f"forms[{row.name}]")


def choose_form(uow: UnitOfWork, service: Service, form_name: str | None,
                kind: str | None = None) -> Form:
    """The named form; else the service's own form (of that kind); else the default form."""
    if form_name:
        row = uow.forms.by_name(form_name)
        if row is None:
            raise NotFound(f"no form {form_name!r}")
        if row.service_id not in (None, service.id):
            raise ValidationFailed([FieldError("form", f"form {form_name!r} belongs to "
                                               "another service")], "wrong form")
        return row
    own = uow.forms.for_service(service.id, kind) or uow.forms.for_service(service.id, None)
    if own:
        return own[0]
    row = uow.forms.by_name(DEFAULT_FORM)
    if row is None:
        raise NotFound("no default intake form is configured (tocsin config apply)")
    return row


def forms_for(uow: UnitOfWork, service: Service) -> list[formdom.FormDef]:
    """The forms a person may use for this service: its own first, then the shared ones."""
    own = list(uow.forms.for_service(service.id, None))
    shared = [f for f in uow.forms.list() if f.service_id is None]
    return [form_def(f) for f in own + shared]


def intake_forms(uow: UnitOfWork, service_ref: str | int,
                 form_name: str | None) -> tuple[list[formdom.FormDef], formdom.FormDef]:
    """For the intake page: the forms on offer for a service, and the one to show."""
    with uow:
        service = need_service(uow, service_ref)
        choices = forms_for(uow, service)
        name = form_name if form_name in {f.name for f in choices} else None
        return choices, form_def(choose_form(uow, service, name))


def refs(uow: UnitOfWork, max_attachment_bytes: int = 5 * 1024 * 1024) -> formdom.Refs:
    return formdom.Refs(
        person={u.id for u in uow.users.list()},
        service=set(uow.services.names()),
        team={t.name for t in uow.teams.list()},
        max_attachment_bytes=max_attachment_bytes,
    )


def classification_view(uow: UnitOfWork, c: Classification) -> ClassificationView:
    level = uow.severity.level(c.severity)
    return ClassificationView(c.kind, c.severity, c.reason, c.rule,
                              level_view(level) if level else None)


def classify_attributes(uow: UnitOfWork, service: Service, attributes: dict[str, Any],
                        kind: str | None) -> Classification:
    facts = facts_for(attributes, service_facts(service))
    return classify(load_rules(uow), facts, kind, load_fallback(uow))


def evaluate(uow: UnitOfWork, service_ref: str | int, attributes: dict[str, Any],
             form_name: str | None = None, partial: bool = False) -> ClassificationView:
    """Preview the classification without creating anything. `partial` tolerates a form
    still being filled in (missing or unparsable fields are left out)."""
    with uow:
        service = need_service(uow, service_ref)
        form_row = choose_form(uow, service, form_name)
        fdef = form_def(form_row)
        cleaned, errors = formdom.check(fdef, attributes, refs(uow), partial=partial)
        if errors and not partial:
            raise ValidationFailed(errors, f"form {fdef.name!r} has invalid fields")
        cleaned = {k: v for k, v in cleaned.items() if fdef.field(k).type != "attachment"}
        return classification_view(uow, classify_attributes(uow, service, cleaned, fdef.kind))

"""People to page (contact methods, their test messages, notification rules), escalation
policies and an incident's notifications, over JSON."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import Field

from ...domain import escalation as dom
from ...domain.auth import Actor
from ...domain.notification_rules import MAX_RULE_DELAY
from ...services import contact_verification, escalation, notification_rules, people
from ...services import escalation_policies as policies
from ..schemas import Id, Page, Strict
from ..security import api, container

router = APIRouter(prefix="/api/v1", tags=["paging"])


class ContactMethodIn(Strict):
    type: str = Field(description=" | ".join(dom.CHANNELS))
    address: str = Field(max_length=500)
    label: str = Field("", max_length=100)


class PersonCreate(Strict):
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(max_length=320)
    time_zone: str = Field("UTC", max_length=64)
    contact_methods: list[ContactMethodIn] = Field(default_factory=list, max_length=20)


class ContactMethodPatch(Strict):
    address: str | None = Field(None, max_length=500, description="a new address is unverified")
    label: str | None = Field(None, max_length=100)


class CodeIn(Strict):
    code: str = Field(max_length=40, description="the code in the test message")


class RuleIn(Strict):
    contact_method_id: int = Field(description="one of the person's contact methods")
    delay_minutes: int = Field(0, description=f"minutes after the step pages them, 0 to "
                                              f"{MAX_RULE_DELAY}; skipped once acknowledged")
    urgency: str | None = Field(None, description="high (P1, P2) | low (P3, P4) | null: every "
                                                  "incident")


class RulesIn(Strict):
    rules: list[RuleIn] = Field(max_length=100, description="in order; [] = the default, "
                                                            "every contact method at once")


class TargetIn(Strict):
    type: str = Field(description=" | ".join(dom.TARGET_TYPES))
    id: int = Field(ge=1, le=2**53)


class StepIn(Strict):
    delay_minutes: int = Field(ge=1, le=dom.MAX_DELAY, description="minutes this step waits "
                               "for an acknowledgement before the next step fires")
    targets: list[TargetIn] = Field(min_length=1, max_length=dom.MAX_TARGETS)


class PolicyCreate(Strict):
    name: str = Field(min_length=1, max_length=100)
    description: str = Field("", max_length=2000)
    repeat: int = Field(0, ge=0, le=dom.MAX_REPEAT, description="extra rounds after the last step")
    steps: list[StepIn] = Field(min_length=1, max_length=dom.MAX_STEPS)


@router.post("/people", status_code=201, response_model=people.PersonView)
def create_person(body: PersonCreate, request: Request,
                  actor: Actor = api("users:admin")) -> people.PersonView:
    return people.create_person(container(request).uow(), actor, body.name, body.email,
                                body.time_zone, [m.model_dump() for m in body.contact_methods])


@router.get("/people", response_model=Page)
def list_people(request: Request, _: Actor = api("read")) -> Page:
    items = people.list_people(container(request).uow(read_only=True))
    return Page(items=items, total=len(items))


@router.get("/people/{person_id}", response_model=people.PersonView)
def get_person(person_id: Id, request: Request, _: Actor = api("read")) -> people.PersonView:
    return people.get_person(container(request).uow(read_only=True), person_id)


@router.post("/people/{person_id}/contact-methods", status_code=201,
             response_model=people.PersonView)
def add_contact_method(person_id: Id, body: ContactMethodIn, request: Request,
                       actor: Actor = api("read")) -> people.PersonView:
    # people add their own; admins anyone's (checked in the service)
    return people.add_contact_method(container(request).uow(), actor, person_id,
                                     body.model_dump())


@router.patch("/people/{person_id}/contact-methods/{method_id}", response_model=people.PersonView)
def update_contact_method(person_id: Id, method_id: Id, body: ContactMethodPatch, request: Request,
                          actor: Actor = api("read")) -> people.PersonView:
    return people.update_contact_method(container(request).uow(), actor, person_id, method_id,
                                        body.model_dump(exclude_none=True))


@router.post("/people/{person_id}/contact-methods/{method_id}/test", status_code=202,
             response_model=people.ContactMethodView)
def test_contact_method(person_id: Id, method_id: Id, request: Request,
                        actor: Actor = api("read")) -> people.ContactMethodView:
    """Send a test message with a one-time code and link (own, or anyone's for an admin)."""
    view = contact_verification.send_test(container(request).uow(), actor, person_id, method_id)
    request.app.state.kick()
    return view


@router.post("/people/{person_id}/contact-methods/{method_id}/verify",
             response_model=people.ContactMethodView)
def verify_contact_method(person_id: Id, method_id: Id, body: CodeIn, request: Request,
                          actor: Actor = api("read")) -> people.ContactMethodView:
    return contact_verification.verify_code(container(request).uow(), actor, person_id,
                                            method_id, body.code)


@router.get("/people/{person_id}/notification-rules",
            response_model=notification_rules.RulesView)
def get_rules(person_id: Id, request: Request,
              _: Actor = api("read")) -> notification_rules.RulesView:
    return notification_rules.get_rules(container(request).uow(read_only=True), person_id)


@router.put("/people/{person_id}/notification-rules", response_model=notification_rules.RulesView)
def put_rules(person_id: Id, body: RulesIn, request: Request,
              actor: Actor = api("read")) -> notification_rules.RulesView:
    # people set their own; admins anyone's (checked in the service)
    return notification_rules.put_rules(container(request).uow(), actor, person_id,
                                        [r.model_dump() for r in body.rules])


@router.post("/escalation-policies", status_code=201, response_model=policies.PolicyView)
def create_policy(body: PolicyCreate, request: Request,
                  actor: Actor = api("config:write")) -> policies.PolicyView:
    return policies.create_policy(container(request).uow(), actor, body.model_dump())


@router.get("/escalation-policies", response_model=Page)
def list_policies(request: Request, _: Actor = api("read")) -> Page:
    items = policies.list_policies(container(request).uow(read_only=True))
    return Page(items=items, total=len(items))


@router.get("/escalation-policies/{policy_id}", response_model=policies.PolicyView)
def get_policy(policy_id: Id, request: Request, _: Actor = api("read")) -> policies.PolicyView:
    return policies.get_policy(container(request).uow(read_only=True), policy_id)


@router.get("/incidents/{incident_id}/notifications", response_model=Page)
def notifications(incident_id: Id, request: Request, _: Actor = api("read")) -> Page:
    items: list[Any] = escalation.notifications_for(container(request).uow(read_only=True),
                                                     incident_id)
    return Page(items=items, total=len(items))

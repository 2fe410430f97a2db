"""People to page, escalation policies and an incident's notifications, over JSON."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import Field

from ...domain import escalation as dom
from ...domain.auth import Actor
from ...services import escalation, people
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

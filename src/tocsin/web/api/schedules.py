"""On-call schedules over JSON: create, read, overrides, who is on call, the final view."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import AwareDatetime, Field

from ...domain import schedule as dom
from ...domain.auth import Actor
from ...services import schedules
from ..schemas import Id, Page, Strict
from ..security import api, container

router = APIRouter(prefix="/api/v1", tags=["schedules"])


class WindowIn(Strict):
    days: list[str] = Field(default_factory=lambda: list(dom.DAYS), max_length=7)
    start: str = Field(description="local time, like 09:00")
    end: str = Field(description="local time, like 17:30; 24:00 for midnight; before start: "
                                 "runs past midnight")


class LayerIn(Strict):
    name: str = Field("", max_length=100)
    rotation: str = Field(description="daily | weekly | custom")
    length_days: int | None = Field(None, ge=1, le=365, description="custom rotations only")
    handoff: str = Field("09:00", description="local wall-clock time of each handoff")
    start: str = Field(description="date of the first handoff, like 2026-12-01")
    members: list[int] = Field(min_length=1, max_length=dom.MAX_MEMBERS,
                               description="person ids, in turn order")
    restrictions: list[WindowIn] = Field(default_factory=list, max_length=dom.MAX_WINDOWS)


class ScheduleCreate(Strict):
    name: str = Field(min_length=1, max_length=100)
    time_zone: str = Field(max_length=64)
    layers: list[LayerIn] = Field(min_length=1, max_length=dom.MAX_LAYERS,
                                  description="later layers sit on top of earlier ones")


class OverrideCreate(Strict):
    person_id: int = Field(ge=1, le=2**53)
    start: AwareDatetime
    end: AwareDatetime
    reason: str = Field("", max_length=500)


@router.post("/schedules", status_code=201, response_model=schedules.ScheduleView)
def create(body: ScheduleCreate, request: Request,
           actor: Actor = api("config:write")) -> schedules.ScheduleView:
    data = body.model_dump(exclude_none=True)
    return schedules.create_schedule(container(request).uow(), actor, data)


@router.get("/schedules", response_model=Page)
def list_(request: Request, _: Actor = api("read")) -> Page:
    items = schedules.list_schedules(container(request).uow(read_only=True))
    return Page(items=items, total=len(items))


@router.get("/schedules/{schedule_id}", response_model=schedules.ScheduleView)
def get(schedule_id: Id, request: Request, _: Actor = api("read")) -> schedules.ScheduleView:
    return schedules.get_schedule(container(request).uow(read_only=True), schedule_id)


class SwapIn(Strict):
    first: AwareDatetime = Field(description="an instant inside the first shift")
    second: AwareDatetime = Field(description="an instant inside the other person's shift")
    reason: str = Field("", max_length=400)


@router.post("/schedules/{schedule_id}/swaps", status_code=201, response_model=Page)
def swap(schedule_id: Id, body: SwapIn, request: Request,
         actor: Actor = api("incidents:write")) -> Page:
    items = schedules.swap_shifts(container(request).uow(), actor, schedule_id, body.first,
                                  body.second, body.reason)
    return Page(items=items, total=len(items))


@router.put("/schedules/{schedule_id}", response_model=schedules.ScheduleView)
def replace(schedule_id: Id, body: ScheduleCreate, request: Request,
            actor: Actor = api("config:write")) -> schedules.ScheduleView:
    data = body.model_dump(exclude_none=True)
    return schedules.update_schedule(container(request).uow(), actor, schedule_id, data)


@router.get("/schedules/{schedule_id}/oncall", response_model=schedules.OnCallView)
def oncall(schedule_id: Id, request: Request, at: AwareDatetime | None = None,
           _: Actor = api("read")) -> schedules.OnCallView:
    return schedules.on_call(container(request).uow(read_only=True), schedule_id, at)


@router.get("/schedules/{schedule_id}/shifts", response_model=Page)
def shifts(schedule_id: Id, request: Request, from_: AwareDatetime = Query(alias="from"),
           to: AwareDatetime = Query(), _: Actor = api("read")) -> Page:
    """The final view of [from, to): layers, restrictions and overrides resolved; gaps
    (nobody on call) have `person: null`."""
    items: list[Any] = schedules.final_view(container(request).uow(read_only=True), schedule_id,
                                            from_, to)
    return Page(items=items, total=len(items))


@router.post("/schedules/{schedule_id}/overrides", status_code=201, response_model=Page)
def override(schedule_id: Id, body: OverrideCreate, request: Request,
             actor: Actor = api("incidents:write")) -> Page:
    items: list[Any] = schedules.add_override(container(request).uow(), actor, schedule_id,
                                              body.person_id, body.start, body.end, body.reason)
    return Page(items=items, total=len(items))


@router.get("/people/{person_id}/ical")
def person_ical(person_id: Id, request: Request, actor: Actor = api("read")) -> dict[str, str]:
    """The secret iCal URL of someone's shifts (their own; admins: anyone's)."""
    c = container(request)
    path = schedules.person_feed_path(c.uow(), actor, person_id)
    return {"url": f"{c.settings.public_url}{path}"}

"""Incident roles, the roles roster, playbooks, and an incident's roles and checkpoints,
over JSON."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Request
from pydantic import Field

from ...domain.auth import Actor
from ...services import checkpoints, roles
from ..schemas import Id, Page, Strict
from ..security import api, container

router = APIRouter(prefix="/api/v1", tags=["roles"])
RoleKey = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,59}$")]
SeverityCode = Annotated[str, Path(pattern=r"^P[1-4]$")]


class SourceIn(Strict):
    type: str = Field(description="schedule | person | service_oncall")
    id: int | None = Field(None, ge=1, le=2**53)


class RoleIn(Strict):
    name: str = Field(min_length=1, max_length=100)
    responsibilities: str = Field("", max_length=5000)
    primary: SourceIn | None = None
    alternate: SourceIn | None = None
    auto_severities: list[str] = Field(default_factory=list, max_length=4,
                                       description="P1–P4: filled on declaring at these")


class HandoffIn(Strict):
    person: int | str | None = Field(None, description="id or email; omit to fill the role "
                                                       "from its schedule (primary, else "
                                                       "alternate)")
    reason: str = Field("", max_length=500)


class TaskDone(Strict):
    note: str = Field("", max_length=1000)


class ItemIn(Strict):
    done: bool


@router.get("/roles", response_model=Page)
def list_roles(request: Request, _: Actor = api("read")) -> Page:
    items = roles.list_roles(container(request).uow(read_only=True))
    return Page(items=items, total=len(items))


@router.get("/roles/roster", response_model=Page)
def roster(request: Request, _: Actor = api("read")) -> Page:
    items = roles.roster(container(request).uow(read_only=True))
    return Page(items=items, total=len(items))


@router.put("/roles/{key}", response_model=roles.RoleView)
def put_role(key: RoleKey, body: RoleIn, request: Request,
             actor: Actor = api("config:write")) -> roles.RoleView:
    data = body.model_dump(exclude_none=True)
    return roles.put_role(container(request).uow(), actor, {**data, "key": key})


@router.delete("/roles/{key}", status_code=204)
def delete_role(key: RoleKey, request: Request, actor: Actor = api("config:write")) -> None:
    roles.delete_role(container(request).uow(), actor, key)


@router.get("/playbooks", response_model=Page)
def list_playbooks(request: Request, _: Actor = api("read")) -> Page:
    items = checkpoints.list_playbooks(container(request).uow(read_only=True))
    return Page(items=items, total=len(items))


@router.put("/playbooks/{severity}")
def put_playbook(severity: SeverityCode, request: Request,
                 body: dict[str, Any] = Body(..., examples=[{"name": "P1 response",
                                                             "checkpoints": []}]),
                 actor: Actor = api("config:write")) -> dict[str, Any]:
    return checkpoints.put_playbook(container(request).uow(), actor,
                                    {**body, "severity": severity})


@router.delete("/playbooks/{severity}", status_code=204)
def delete_playbook(severity: SeverityCode, request: Request,
                    actor: Actor = api("config:write")) -> None:
    checkpoints.delete_playbook(container(request).uow(), actor, severity)


@router.get("/incidents/{incident_id}/roles", response_model=Page)
def incident_roles(incident_id: Id, request: Request, _: Actor = api("read")) -> Page:
    items = roles.incident_roles(container(request).uow(read_only=True), incident_id)
    return Page(items=items, total=len(items))


@router.put("/incidents/{incident_id}/roles/{key}", response_model=Page)
def hand_off(incident_id: Id, key: RoleKey, body: HandoffIn, request: Request,
             actor: Actor = api("incidents:write")) -> Page:
    items = roles.assign(container(request).uow(), actor, incident_id, key, body.person,
                         body.reason)
    return Page(items=items, total=len(items))


@router.delete("/incidents/{incident_id}/roles/{key}", status_code=204)
def release(incident_id: Id, key: RoleKey, request: Request,
            actor: Actor = api("incidents:write")) -> None:
    roles.release(container(request).uow(), actor, incident_id, key)


@router.get("/incidents/{incident_id}/tasks", response_model=Page)
def tasks(incident_id: Id, request: Request, _: Actor = api("read")) -> Page:
    items = checkpoints.tasks_for(container(request).uow(read_only=True), incident_id)
    return Page(items=items, total=len(items))


@router.post("/incidents/{incident_id}/tasks/{task_id}/done",
             response_model=checkpoints.TaskView)
def task_done(incident_id: Id, task_id: Id, body: TaskDone, request: Request,
              actor: Actor = api("incidents:write")) -> checkpoints.TaskView:
    return checkpoints.complete(container(request).uow(), actor, incident_id, task_id,
                                body.note)


@router.post("/incidents/{incident_id}/tasks/{task_id}/checklist/{index}",
             response_model=checkpoints.TaskView)
def check_item(incident_id: Id, task_id: Id, index: Annotated[int, Path(ge=0, le=100)],
               body: ItemIn, request: Request,
               actor: Actor = api("incidents:write")) -> checkpoints.TaskView:
    return checkpoints.check_item(container(request).uow(), actor, incident_id, task_id, index,
                                  body.done)

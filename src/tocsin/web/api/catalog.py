"""Services, teams, forms and severity configuration over JSON."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request, Response
from starlette.concurrency import run_in_threadpool

from ...domain.auth import Actor
from ...domain.errors import FieldError, ValidationFailed
from ...services import catalog, classify, config
from ...services.views import ClassificationView, LevelView, ServiceView, TeamView
from ..schemas import EvaluateBody, Page, ServiceCreate, ServicePatch, TeamCreate
from ..security import api, container

router = APIRouter(prefix="/api/v1", tags=["configuration"])
YAML_BODY = {"requestBody": {"required": True, "content": {"application/yaml": {
    "schema": {"type": "string"}}}}}


@router.post("/services", status_code=201, response_model=ServiceView)
def create_service(body: ServiceCreate, request: Request,
                   actor: Actor = api("config:write")) -> ServiceView:
    return catalog.create_service(container(request).uow(), actor, catalog.ServiceInput(
        body.name, body.description, body.tier, body.tags, body.team, body.owner))


@router.get("/services", response_model=Page)
def list_services(request: Request, _: Actor = api("read")) -> Page:
    items = catalog.list_services(container(request).uow(read_only=True))
    return Page(items=items, total=len(items))


@router.get("/services/{ref}", response_model=ServiceView)
def get_service(ref: str, request: Request, _: Actor = api("read")) -> ServiceView:
    return catalog.get_service(container(request).uow(read_only=True), ref)


@router.patch("/services/{ref}", response_model=ServiceView)
def patch_service(ref: str, body: ServicePatch, request: Request,
                  actor: Actor = api("config:write")) -> ServiceView:
    changes = body.model_dump(exclude_unset=True)
    if "owner" in changes:
        changes["owner_email"] = changes.pop("owner")
    return catalog.update_service(container(request).uow(), actor, ref, changes)


@router.get("/teams", response_model=Page)
def list_teams(request: Request, _: Actor = api("read")) -> Page:
    items = catalog.list_teams(container(request).uow(read_only=True))
    return Page(items=items, total=len(items))


@router.post("/teams", status_code=201, response_model=TeamView)
def create_team(body: TeamCreate, request: Request,
                actor: Actor = api("config:write")) -> TeamView:
    return catalog.create_team(container(request).uow(), actor, body.name, body.description,
                               body.members)


@router.get("/forms", response_model=Page)
def list_forms(request: Request, _: Actor = api("read")) -> Page:
    items = config.list_forms(container(request).uow(read_only=True))
    return Page(items=items, total=len(items))


@router.get("/forms/{name}")
def get_form(name: str, request: Request, _: Actor = api("read")) -> dict[str, Any]:
    return config.get_form(container(request).uow(read_only=True), name)


@router.put("/forms/{name}")
def put_form(name: str, request: Request, spec: dict[str, Any] = Body(...),
             actor: Actor = api("config:write")) -> dict[str, Any]:
    if spec.get("name", name) != name:
        raise ValidationFailed([FieldError("name", "must match the URL")], "name mismatch")
    return config.put_form(container(request).uow(), actor, {**spec, "name": name})


@router.delete("/forms/{name}", status_code=204)
def delete_form(name: str, request: Request, actor: Actor = api("config:write")) -> Response:
    config.delete_form(container(request).uow(), actor, name)
    return Response(status_code=204)


@router.get("/severity/levels", response_model=list[LevelView])
def levels(request: Request, _: Actor = api("read")) -> list[LevelView]:
    return config.list_levels(container(request).uow(read_only=True))


@router.get("/severity/rules")
def get_rules(request: Request, _: Actor = api("read")) -> list[dict[str, Any]]:
    return config.get_rules(container(request).uow(read_only=True))


@router.put("/severity/rules")
def put_rules(request: Request, rules: list[Any] = Body(...),
              actor: Actor = api("config:write")) -> list[dict[str, Any]]:
    return config.put_rules(container(request).uow(), actor, rules)


@router.post("/severity/evaluate", response_model=ClassificationView)
def evaluate(body: EvaluateBody, request: Request, _: Actor = api("read")) -> ClassificationView:
    return classify.evaluate(container(request).uow(read_only=True), body.service,
                             body.attributes, body.form, body.partial)


@router.get("/config")
def export_config(request: Request, _: Actor = api("read")) -> dict[str, Any]:
    return config.export_data(container(request).uow(read_only=True))


async def _yaml_body(request: Request) -> str:
    raw = await request.body()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationFailed([FieldError("body", "must be UTF-8 YAML")], "bad body") from exc


@router.post("/config/check", openapi_extra=YAML_BODY)
async def check_config(request: Request, _: Actor = api("read")) -> dict[str, Any]:
    """Validate a YAML configuration document without applying it."""
    text = await _yaml_body(request)
    return {"valid": True, "sections": await run_in_threadpool(
        config.check_text, text, "(request body)")}


@router.post("/config/apply", openapi_extra=YAML_BODY)
async def apply_config(request: Request, actor: Actor = api("config:write")) -> dict[str, Any]:
    """Validate and apply a YAML configuration document, all or nothing."""
    text = await _yaml_body(request)
    summary = await run_in_threadpool(
        config.apply_text, container(request).uow(), actor, text, "(request body)")
    return {"applied": summary}

"""People, API tokens and the audit check over JSON."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from ...domain.auth import Actor
from ...services import audit, users
from ...services.views import TokenCreated, UserView
from ..schemas import Id, Page, TokenCreate, UserCreate, UserPatch
from ..security import api, container

router = APIRouter(prefix="/api/v1", tags=["people"])


@router.get("/me")
def me(request: Request, actor: Actor = api("read")) -> dict[str, Any]:
    return {"id": actor.user_id, "name": actor.name, "role": actor.role,
            "time_zone": actor.time_zone}


@router.get("/users", response_model=Page)
def list_users(request: Request, _: Actor = api("read")) -> Page:
    items = users.list_users(container(request).uow(read_only=True))
    return Page(items=items, total=len(items))


@router.post("/users", status_code=201, response_model=UserView)
def create_user(body: UserCreate, request: Request,
                actor: Actor = api("users:admin")) -> UserView:
    return users.create_user(container(request).uow(), actor, body.email, body.password,
                             body.role, body.name, body.time_zone, body.phone)


@router.patch("/users/{user_id}", response_model=UserView)
def update_user(user_id: Id, body: UserPatch, request: Request,
                actor: Actor = api("users:admin")) -> UserView:
    return users.update_user(container(request).uow(), actor, user_id, body.role, body.active,
                             body.name, body.password)


@router.post("/tokens", status_code=201, response_model=TokenCreated)
def create_token(body: TokenCreate, request: Request, actor: Actor = api("read")) -> TokenCreated:
    """Create an API token. The token is in this response only; it is stored hashed."""
    c = container(request)
    email = body.email or users.get_user(c.uow(read_only=True), actor.user_id).email
    return users.create_token(c.uow(), actor, email, body.name)


@router.get("/tokens")
def list_tokens(request: Request, actor: Actor = api("read")) -> dict[str, Any]:
    items = users.list_tokens(container(request).uow(read_only=True), actor)
    return {"items": items, "total": len(items)}


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(token_id: Id, request: Request, actor: Actor = api("read")) -> Response:
    users.revoke_token(container(request).uow(), actor, token_id)
    return Response(status_code=204)


@router.get("/audit/verify")
def verify_audit(request: Request, _: Actor = api("users:admin")) -> dict[str, Any]:
    report = audit.verify(container(request).uow(read_only=True))
    return {"ok": report.ok, "records": report.records, "timeline_entries": report.entries,
            "head_seq": report.head_seq, "head_hash": report.head_hash,
            "problems": [{"seq": p.seq, "message": p.message} for p in report.problems]}

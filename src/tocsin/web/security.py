"""Authentication and permissions for every route: deny by default, checked at start-up."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

from fastapi import Depends, FastAPI, Request
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from ..bootstrap import Container
from ..domain.auth import Actor
from ..domain.errors import Forbidden, Unauthorized
from ..services import users as user_svc
from .errors import LoginRequired

# Routes anyone may reach. Everything else must declare a permission.
# /ack/{token}, /verify/{token}, /ical/…/{token}.ics: the secret token in the path is the
# credential.
PUBLIC_PATHS = {"/healthz", "/login", "/logout", "/openapi.json", "/docs", "/docs/oauth2-redirect",
                "/redoc", "/ack/{token}", "/verify/{token}", "/ical/schedules/{token}.ics",
                "/ical/people/{token}.ics"}
CSRF_HEADER = "X-CSRF-Token"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def container(request: Request) -> Container:
    return request.app.state.container


class ApiPermission:
    """Dependency for /api routes: a bearer token whose role has `permission`."""

    def __init__(self, permission: str) -> None:
        self.permission = permission

    def __call__(self, request: Request) -> Actor:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("send an API token: Authorization: Bearer <token>")
        actor = user_svc.actor_for_token(container(request).uow(read_only=True), token.strip())
        actor.require(self.permission)
        request.state.actor = actor
        return actor


class UiPermission:
    """Dependency for UI pages: a signed-in session (and a CSRF token on changes)."""

    def __init__(self, permission: str) -> None:
        self.permission = permission

    async def __call__(self, request: Request) -> Actor:
        sid = request.session.get("sid")
        actor = None
        if sid:
            actor = await run_in_threadpool(user_svc.actor_for_session,
                                            container(request).uow(read_only=True), sid)
        if actor is None:
            request.session.clear()
            raise LoginRequired(request.url.path)
        request.state.actor = actor
        if request.method in UNSAFE:
            await check_csrf(request)
        actor.require(self.permission)
        return actor


async def check_csrf(request: Request) -> None:
    expected = request.session.get("csrf")
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and "form" in request.headers.get("content-type", ""):
        sent = (await request.form()).get("csrf_token")
    if not expected or not sent or not secrets.compare_digest(str(sent), str(expected)):
        raise Forbidden("missing or wrong CSRF token; reload the page and try again")


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


def api(permission: str):  # noqa: ANN201
    return Depends(ApiPermission(permission))


def ui(permission: str):  # noqa: ANN201
    return Depends(UiPermission(permission))


def route_permission(route: APIRoute) -> str | None:
    for dep in route.dependant.dependencies:
        if isinstance(dep.call, ApiPermission | UiPermission):
            return dep.call.permission
    return None


def iter_api_routes(routes: list) -> Iterator[APIRoute]:
    """Every APIRoute, including those inside included routers (FastAPI nests them)."""
    for r in routes:
        if isinstance(r, APIRoute):
            yield r
        inner = getattr(r, "original_router", None)
        if inner is not None:
            yield from iter_api_routes(inner.routes)


def enforce_declared(app: FastAPI) -> None:
    """Refuse to start if any route forgot to declare who may call it."""
    missing = [f"{sorted(r.methods)} {r.path}" for r in iter_api_routes(app.routes)
               if r.path not in PUBLIC_PATHS and route_permission(r) is None]
    if missing:
        raise RuntimeError("routes without a permission: " + ", ".join(missing))

"""Domain errors → application/problem+json (API) or a readable page (UI), in one place."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidTransition,
    NotFound,
    Unauthorized,
    ValidationFailed,
)
from ..services.config import ConfigInvalid

log = logging.getLogger("tocsin.web")
PROBLEM = "application/problem+json"

STATUS: list[tuple[type[DomainError], int, str]] = [
    (InvalidTransition, 409, "invalid-transition"),
    (ValidationFailed, 422, "validation-failed"),
    (ConfigInvalid, 422, "invalid-configuration"),
    (NotFound, 404, "not-found"),
    (Conflict, 409, "conflict"),
    (Forbidden, 403, "forbidden"),
    (Unauthorized, 401, "unauthorized"),
]
TITLES = {400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found",
          405: "Method not allowed", 409: "Conflict", 413: "Payload too large",
          415: "Unsupported media type", 422: "Unprocessable content",
          500: "Internal server error"}


class LoginRequired(Exception):
    """A UI page was asked for without a session."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


def problem(status: int, detail: str, kind: str = "about:blank", **extra: Any) -> JSONResponse:
    body = {"type": kind if kind == "about:blank" else f"/problems/{kind}",
            "title": TITLES.get(status, "Error"), "status": status, "detail": detail, **extra}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def domain_problem(exc: DomainError) -> JSONResponse:
    status, kind = next(((s, k) for t, s, k in STATUS if isinstance(exc, t)), (400, "bad-request"))
    extra: dict[str, Any] = {}
    if isinstance(exc, ValidationFailed):
        extra["errors"] = [{"field": e.field, "message": e.message} for e in exc.errors]
    if isinstance(exc, ConfigInvalid):
        extra["errors"] = [{"file": p.file, "path": p.path, "line": p.line, "message": p.reason}
                           for p in exc.problems]
    if isinstance(exc, InvalidTransition):
        extra["allowed"] = exc.allowed
    return problem(status, exc.message, kind, **extra)


def _is_ui(request: Request) -> bool:
    return not request.url.path.startswith(("/api/", "/healthz", "/openapi"))


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        if _is_ui(request):
            return _ui_error(request, exc)
        return domain_problem(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = [_field_error(e) for e in exc.errors()]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem(422, f"invalid request: {detail}", "validation-failed", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if _is_ui(request) and exc.status_code in (403, 404):
            return _ui_page(request, exc.status_code, str(exc.detail))
        return problem(exc.status_code, str(exc.detail))

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        if request.headers.get("HX-Request"):
            return Response(status_code=204, headers={"HX-Redirect": "/login"})
        return RedirectResponse(f"/login?next={exc.next_url}", status_code=303)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(500, "an unexpected error occurred; it has been logged")


def _field_error(e: dict[str, Any]) -> dict[str, str]:
    """A pydantic error as {field, message}, without pydantic's internal path parts."""
    if e.get("type") == "json_invalid":
        where = e["loc"][-1] if len(e.get("loc", ())) > 1 else "?"
        reason = (e.get("ctx") or {}).get("error", "invalid JSON")
        return {"field": "body", "message": f"malformed JSON at character {where}: {reason}"}
    parts = [str(p) for p in e["loc"] if p != "body"]
    # union members show up as extra path parts (e.g. service.str, service.int)
    parts = [p for p in parts if p not in ("str", "int", "float", "bool", "list", "dict")]
    return {"field": ".".join(parts) or "body", "message": e["msg"]}


def _ui_error(request: Request, exc: DomainError) -> Response:
    status = next((s for t, s, _ in STATUS if isinstance(exc, t)), 400)
    back = _back(request)
    if request.method == "POST" and back and not request.headers.get("HX-Request"):
        # A form that failed: back to the page it came from, with the reason on top.
        if isinstance(exc, ValidationFailed) and exc.errors:
            message = "; ".join(f"{e.field.replace('_', ' ')}: {e.message}" for e in exc.errors)
        else:
            message = exc.message
        request.session["flash"] = {"kind": "error", "message": message}
        return RedirectResponse(back, status_code=303)
    return _ui_page(request, status, exc.message)


def _back(request: Request) -> str | None:
    """The referring page when it is one of ours (never an open redirect)."""
    ref = request.headers.get("referer", "")
    origin = f"{request.url.scheme}://{request.url.netloc}"
    if not ref.startswith(origin + "/"):
        return None
    return ref[len(origin):]


def _ui_page(request: Request, status: int, message: str) -> Response:
    if request.headers.get("HX-Request"):
        html = f'<div class="flash error" role="alert">{_escape(message)}</div>'
        return HTMLResponse(html, status_code=200, headers={"HX-Retarget": "#flash",
                                                            "HX-Reswap": "innerHTML"})
    templates = request.app.state.templates
    actor = getattr(request.state, "actor", None)
    return templates.TemplateResponse(request, "error.html", {
        "status": status, "title": TITLES.get(status, "Error"), "message": message,
        "actor": actor, "tz": actor.time_zone if actor else "UTC"}, status_code=status)


def _escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

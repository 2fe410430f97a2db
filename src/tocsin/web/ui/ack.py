"""The links in messages: the acknowledge link in a page and the verification link in a
contact method's test message. Opening one shows what it would do; only the button does it
(mail scanners open links, so a GET never changes anything)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ...domain.errors import Conflict, NotFound
from ...services import contact_verification, escalation
from ..security import container
from .common import render

router = APIRouter(include_in_schema=False)


def _show(request: Request, template: str, read: Callable[..., Any], token: str) -> HTMLResponse:
    try:
        link = read(container(request).uow(read_only=True), token)
    except NotFound as exc:
        return render(request, template, None, status_code=404, link=None, error=exc.message)
    return render(request, template, None, link=link, token=token, error=None, done=False)


def _use(request: Request, template: str, read: Callable[..., Any], use: Callable[..., Any],
         token: str) -> HTMLResponse:
    c = container(request)
    try:
        link = use(c.uow(), token)
    except NotFound as exc:
        return render(request, template, None, status_code=404, link=None, error=exc.message)
    except Conflict as exc:
        link = read(c.uow(read_only=True), token)
        return render(request, template, None, status_code=409, link=link, error=exc.message,
                      done=False)
    return render(request, template, None, link=link, error=None, done=True)


@router.get("/ack/{token}")
def ack_page(token: str, request: Request) -> HTMLResponse:
    return _show(request, "ack.html", escalation.ack_link, token)


@router.post("/ack/{token}")
def ack(token: str, request: Request) -> HTMLResponse:
    page = _use(request, "ack.html", escalation.ack_link, escalation.acknowledge_by_link, token)
    if page.status_code == 200:
        request.app.state.kick()
    return page


@router.get("/verify/{token}")
def verify_page(token: str, request: Request) -> HTMLResponse:
    return _show(request, "verify.html", contact_verification.verify_link, token)


@router.post("/verify/{token}")
def verify(token: str, request: Request) -> HTMLResponse:
    return _use(request, "verify.html", contact_verification.verify_link,
                contact_verification.verify_by_link, token)

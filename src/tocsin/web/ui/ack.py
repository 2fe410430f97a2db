"""The acknowledge link in a page: opening it shows what it would acknowledge; the button
acknowledges (mail scanners open links, so a GET never changes anything)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ...domain.errors import Conflict, NotFound
from ...services import escalation
from ..security import container
from .common import render

router = APIRouter(include_in_schema=False)


@router.get("/ack/{token}")
def ack_page(token: str, request: Request) -> HTMLResponse:
    try:
        link = escalation.ack_link(container(request).uow(read_only=True), token)
    except NotFound as exc:
        return render(request, "ack.html", None, status_code=404, link=None, error=exc.message)
    return render(request, "ack.html", None, link=link, token=token, error=None, done=False)


@router.post("/ack/{token}")
def ack(token: str, request: Request) -> HTMLResponse:
    c = container(request)
    try:
        link = escalation.acknowledge_by_link(c.uow(), token)
    except NotFound as exc:
        return render(request, "ack.html", None, status_code=404, link=None, error=exc.message)
    except Conflict as exc:
        link = escalation.ack_link(c.uow(read_only=True), token)
        return render(request, "ack.html", None, status_code=409, link=link, error=exc.message,
                      done=False)
    request.app.state.kick()
    return render(request, "ack.html", None, link=link, error=None, done=True)

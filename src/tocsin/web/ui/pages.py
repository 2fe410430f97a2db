"""Sign-in, the profile (time zone, API tokens), services, people (contact methods, their
tests, notification rules) and the audit check."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ...domain.auth import Actor
from ...domain.errors import Conflict, DomainError, Unauthorized, ValidationFailed
from ...domain.escalation import CHANNELS
from ...services import audit, catalog, contact_verification, notification_rules, schedules, users
from ...services import people as people_svc
from ..schemas import Id
from ..security import check_csrf, container, ui
from .common import TIME_ZONES, render

router = APIRouter(include_in_schema=False)


@router.get("/login")
def login_page(request: Request, next: str = "/incidents") -> Response:
    return render(request, "login.html", None, next=_safe_next(next), error=None)


@router.post("/login")
async def login(request: Request, email: str = Form(""), password: str = Form(""),
                next: str = Form("/incidents")) -> Response:
    await check_csrf(request)
    try:
        actor = await run_in_threadpool(users.authenticate,
                                        container(request).uow(read_only=True), email, password)
    except Unauthorized as exc:
        return render(request, "login.html", None, status_code=401, next=_safe_next(next),
                      error=exc.message, email=email)
    c = container(request)
    sid = await run_in_threadpool(users.start_session, c.uow(), actor,
                                  c.settings.session_max_age_seconds)
    # A new server-side session on sign-in (no fixation); the form's CSRF token carries over.
    csrf = request.session.get("csrf") or secrets.token_urlsafe(32)
    request.session.clear()
    request.session.update({"sid": sid, "csrf": csrf})
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
async def logout(request: Request) -> Response:
    await check_csrf(request)
    sid = request.session.get("sid")
    if sid:
        await run_in_threadpool(users.end_session, container(request).uow(), sid)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


def _safe_next(url: str) -> str:
    return url if url.startswith("/") and not url.startswith("//") else "/incidents"


@router.get("/")
def home(_: Actor = ui("read")) -> Response:
    return RedirectResponse("/incidents", status_code=303)


@router.get("/profile")
def profile(request: Request, actor: Actor = ui("read")) -> Response:
    c = container(request)
    me = users.get_user(c.uow(read_only=True), actor.user_id)
    tokens = users.list_tokens(c.uow(read_only=True), actor)
    return render(request, "profile.html", actor, me=me, tokens=tokens, zones=TIME_ZONES,
                  new_token=request.session.pop("new_token", None))


@router.post("/profile")
def save_profile(request: Request, time_zone: str = Form(...), name: str = Form(""),
                 phone: str = Form(""), actor: Actor = ui("read")) -> Response:
    users.update_profile(container(request).uow(), actor, time_zone, name, phone)
    request.session["flash"] = {"kind": "ok", "message": "Profile saved."}
    return RedirectResponse("/profile", status_code=303)


@router.post("/profile/tokens")
def new_token(request: Request, name: str = Form(""), actor: Actor = ui("read")) -> Response:
    c = container(request)
    me = users.get_user(c.uow(read_only=True), actor.user_id)
    created = users.create_token(c.uow(), actor, me.email, name)
    # Shown once, on the next page; a reload cannot create a second token.
    request.session["new_token"] = {"name": created.name, "token": created.token}
    return RedirectResponse("/profile", status_code=303)


@router.post("/profile/tokens/{token_id}/revoke")
def revoke(token_id: Id, request: Request, actor: Actor = ui("read")) -> Response:
    users.revoke_token(container(request).uow(), actor, token_id)
    return RedirectResponse("/profile", status_code=303)


@router.get("/services")
def services_page(request: Request, actor: Actor = ui("read")) -> Response:
    c = container(request)
    return render(request, "services.html", actor,
                  services=catalog.list_services(c.uow(read_only=True)),
                  teams=catalog.list_teams(c.uow(read_only=True)), error=None, values={})


@router.post("/services")
def save_service(request: Request, name: str = Form(""), description: str = Form(""),
                 tier: int = Form(3), tags: str = Form(""), team: str = Form(""),
                 original: str = Form(""), actor: Actor = ui("config:write")) -> Response:
    c = container(request)
    tag_list = [t.strip() for t in tags.split(",") if t.strip()]
    if original:
        catalog.update_service(c.uow(), actor, original, {
            "name": name, "description": description, "tier": tier, "tags": tag_list,
            "team": team or None})
    else:
        catalog.create_service(c.uow(), actor, catalog.ServiceInput(
            name, description, tier, tag_list, team or None))
    request.session["flash"] = {"kind": "ok", "message": f"Service {name} saved."}
    return RedirectResponse("/services", status_code=303)


@router.get("/people")
def people_page(request: Request, actor: Actor = ui("read")) -> Response:
    return _people(request, actor)


def _people(request: Request, actor: Actor, error: str | None = None,
            status_code: int = 200) -> Response:
    c = container(request)
    methods = {p.id: p.contact_methods for p in people_svc.list_people(c.uow(read_only=True))}
    return render(request, "people.html", actor, status_code=status_code,
                  people=users.list_users(c.uow(read_only=True)), methods=methods,
                  roster=schedules.roster(c.uow(read_only=True)),
                  rules=notification_rules.all_rules(c.uow(read_only=True)),
                  channels=CHANNELS, teams=catalog.list_teams(c.uow(read_only=True)),
                  zones=TIME_ZONES, error=error)


@router.post("/people")
async def create_person(request: Request, actor: Actor = ui("users:admin")) -> Response:
    data = await request.form()
    try:
        await run_in_threadpool(
            users.create_user, container(request).uow(), actor, str(data.get("email") or ""),
            str(data.get("password") or "") or None, str(data.get("role") or ""),
            str(data.get("name") or "") or None, str(data.get("time_zone") or "UTC"),
            str(data.get("phone") or "") or None)
    except DomainError as exc:
        return await run_in_threadpool(_people, request, actor, exc.message, 422)
    return RedirectResponse("/people", status_code=303)


@router.post("/people/{user_id}")
async def update_person(user_id: Id, request: Request,
                        actor: Actor = ui("users:admin")) -> Response:
    data = await request.form()
    await run_in_threadpool(users.update_user, container(request).uow(), actor, user_id,
                            str(data.get("role") or "") or None, data.get("active") == "true")
    request.session["flash"] = {"kind": "ok", "message": "Saved."}
    return RedirectResponse("/people", status_code=303)


@router.post("/people/{user_id}/contact-methods")
async def add_contact_method(user_id: Id, request: Request,
                             actor: Actor = ui("read")) -> Response:
    """Someone's own contact methods, or anyone's for an admin (checked in the service)."""
    data = await request.form()
    try:
        await run_in_threadpool(people_svc.add_contact_method, container(request).uow(), actor,
                                user_id, {"type": str(data.get("type") or ""),
                                          "address": str(data.get("address") or "")})
    except ValidationFailed as exc:   # Forbidden goes to the usual handler
        return await run_in_threadpool(_people, request, actor, exc.message, 422)
    request.session["flash"] = {"kind": "ok", "message": "Contact method added."}
    return RedirectResponse("/people", status_code=303)


@router.post("/people/{user_id}/contact-methods/{method_id}/test")
async def test_contact_method(user_id: Id, method_id: Id, request: Request,
                              actor: Actor = ui("read")) -> Response:
    """Send a test message (own methods, or anyone's for an admin)."""
    try:
        await run_in_threadpool(contact_verification.send_test, container(request).uow(), actor,
                                user_id, method_id)
    except Conflict as exc:
        return await run_in_threadpool(_people, request, actor, exc.message, 409)
    request.app.state.kick()
    request.session["flash"] = {"kind": "ok", "message": "Test message queued: enter its code "
                                                         "here or open its link."}
    return RedirectResponse("/people", status_code=303)


@router.post("/people/{user_id}/contact-methods/{method_id}/verify")
async def verify_contact_method(user_id: Id, method_id: Id, request: Request,
                                actor: Actor = ui("read")) -> Response:
    data = await request.form()
    try:
        await run_in_threadpool(contact_verification.verify_code, container(request).uow(), actor,
                                user_id, method_id, str(data.get("code") or ""))
    except (ValidationFailed, Conflict) as exc:
        status = 422 if isinstance(exc, ValidationFailed) else 409
        return await run_in_threadpool(_people, request, actor, exc.message, status)
    request.session["flash"] = {"kind": "ok", "message": "Contact method verified."}
    return RedirectResponse("/people", status_code=303)


@router.post("/people/{user_id}/notification-rules")
async def save_rules(user_id: Id, request: Request, actor: Actor = ui("read")) -> Response:
    """The rules form: one row per rule (method, delay, urgency); empty rows are ignored."""
    data = await request.form()
    rows = []
    for i in range(100):
        if f"method_{i}" not in data:
            break
        method, delay = str(data.get(f"method_{i}") or ""), str(data.get(f"delay_{i}") or "0")
        if method:
            rows.append({"contact_method_id": int(method) if method.isdigit() else method,
                         "delay_minutes": int(delay) if delay.strip().isdigit() else delay,
                         "urgency": str(data.get(f"urgency_{i}") or "") or None})
    try:
        await run_in_threadpool(notification_rules.put_rules, container(request).uow(), actor,
                                user_id, rows)
    except ValidationFailed as exc:
        return await run_in_threadpool(_people, request, actor, exc.message, 422)
    request.session["flash"] = {"kind": "ok", "message": "Notification rules saved."}
    return RedirectResponse("/people", status_code=303)


@router.post("/teams")
async def create_team(request: Request, actor: Actor = ui("config:write")) -> Response:
    data = await request.form()
    try:
        await run_in_threadpool(
            catalog.create_team, container(request).uow(), actor, str(data.get("name") or ""),
            str(data.get("description") or ""), [str(m) for m in data.getlist("members")])
    except DomainError as exc:
        return await run_in_threadpool(_people, request, actor, exc.message, 422)
    return RedirectResponse("/people", status_code=303)


@router.get("/audit")
def audit_page(request: Request, actor: Actor = ui("users:admin")) -> Response:
    report = audit.verify(container(request).uow(read_only=True))
    return render(request, "audit.html", actor, report=report)

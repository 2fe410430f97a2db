"""An on-call schedule's page: who is on call over the next two weeks (gaps shown), its
layers, and overrides (cover a shift; a swap is two) entered in the viewer's time zone."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool as off_loop

from ...domain.auth import Actor
from ...domain.errors import FieldError, ValidationFailed
from ...services import schedules, users
from ..schemas import Id
from ..security import container, ui
from .common import render

router = APIRouter(prefix="/schedules", include_in_schema=False)
DAYS_SHOWN = 14


@router.get("/{schedule_id}")
def page(schedule_id: Id, request: Request, actor: Actor = ui("read"),
         error: str | None = None, status_code: int = 200) -> Response:
    c = container(request)
    now = c.clock.now()
    view = schedules.get_schedule(c.uow(read_only=True), schedule_id)
    shifts = schedules.final_view(c.uow(read_only=True), schedule_id, now,
                                  now + timedelta(days=DAYS_SHOWN))
    return render(request, "schedule.html", actor, status_code=status_code, schedule=view,
                  shifts=shifts, days=DAYS_SHOWN, error=error,
                  notices=schedules.notices(c.uow(read_only=True), schedule_id),
                  people=users.list_users(c.uow(read_only=True)))


def _local(raw: str, zone: str, field: str) -> datetime:
    try:
        return datetime.fromisoformat(raw).replace(tzinfo=ZoneInfo(zone))
    except ValueError as exc:
        raise ValidationFailed([FieldError(field, "a date and time like 2026-12-01T09:00")],
                               "invalid override") from exc


@router.post("/{schedule_id}/swaps")
async def swap(schedule_id: Id, request: Request, actor: Actor = ui("incidents:write")) -> Response:
    data = await request.form()
    try:
        first, second = (datetime.fromisoformat(str(data.get(k) or "")) for k in ("first",
                                                                                   "second"))
        await off_loop(schedules.swap_shifts, container(request).uow(), actor, schedule_id,
                       first, second, str(data.get("reason") or ""))
    except ValueError:
        return page(schedule_id, request, actor, error="choose two shifts", status_code=422)
    except ValidationFailed as exc:
        msg = "; ".join(f"{e.field}: {e.message}" for e in exc.errors)
        return page(schedule_id, request, actor, error=msg, status_code=422)
    return RedirectResponse(f"/schedules/{schedule_id}", status_code=303)


@router.post("/{schedule_id}/overrides")
async def override(schedule_id: Id, request: Request,
                   actor: Actor = ui("incidents:write")) -> Response:
    data = await request.form()
    zone = actor.time_zone or "UTC"
    person = str(data.get("person_id") or "")
    try:
        start = _local(str(data.get("start") or ""), zone, "start")
        end = _local(str(data.get("end") or ""), zone, "end")
        if not person.isdigit():
            raise ValidationFailed([FieldError("person_id", "choose who covers")],
                                   "invalid override")
        await off_loop(schedules.add_override, container(request).uow(), actor, schedule_id,
                       int(person), start, end, str(data.get("reason") or ""))
    except ValidationFailed as exc:
        msg = "; ".join(f"{e.field}: {e.message}" for e in exc.errors)
        return page(schedule_id, request, actor, error=msg, status_code=422)
    return RedirectResponse(f"/schedules/{schedule_id}", status_code=303)

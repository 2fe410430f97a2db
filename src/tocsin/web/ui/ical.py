"""iCal feeds of on-call shifts at secret URLs (calendar apps cannot sign in: the token in
the path is the credential)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ...services import schedules
from ..security import container

router = APIRouter(prefix="/ical", include_in_schema=False)
CALENDAR = "text/calendar; charset=utf-8"


@router.get("/schedules/{token}.ics")
def schedule_feed(token: str, request: Request) -> Response:
    return Response(schedules.schedule_feed(container(request).uow(read_only=True), token),
                    media_type=CALENDAR)


@router.get("/people/{token}.ics")
def person_feed(token: str, request: Request) -> Response:
    return Response(schedules.person_feed(container(request).uow(read_only=True), token),
                    media_type=CALENDAR)

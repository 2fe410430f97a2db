"""Messages to one person about an incident (a role given to them, a checkpoint starting,
its reminder, its deadline passing): outbox rows, one per contact method, created once."""

from __future__ import annotations

from typing import Any

from ..store.uow import UnitOfWork
from . import notification_rules

PURPOSES = ("page", "role", "checkpoint", "reminder", "overdue")


def person_in(uow: UnitOfWork, incident_id: int, user_id: int, purpose: str, key: str,
              context: dict[str, Any]) -> int:
    """Queue the message on each of the person's contact methods (inside the caller's
    transaction); `key` names the event, so one event messages a person once. Returns how
    many rows were queued."""
    user = uow.users.get(user_id)
    if user is None or not user.active:
        return 0
    now = uow.clock.now()
    queued = 0
    inc = uow.incidents.get(incident_id)
    # personal rules: the methods the person wants at once (delayed ones are for pages
    # nobody acknowledges; these messages expect no acknowledgement)
    pages = notification_rules.pages_for(notification_rules.contacts_of(uow, user_id),
                                         inc.severity if inc else None)
    for m in [m for m, delay in pages if delay == 0]:
        queued += bool(uow.notifications.add_once({
            "key": f"{purpose}:{incident_id}:{key}:u{user_id}:m{m.id}",
            "incident_id": incident_id, "escalation_id": None, "user_id": user_id,
            "contact_method_id": m.id, "channel": m.type, "address": m.address,
            "purpose": purpose, "context": {**context, "time_zone": user.time_zone or "UTC"},
            "status": "pending", "attempts": 0,
            "next_attempt_at": now, "last_error": "", "created_at": now}))
    return queued

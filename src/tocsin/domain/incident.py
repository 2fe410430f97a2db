"""The incident lifecycle (a small state machine) and its response-target arithmetic."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from .errors import InvalidTransition
from .severity import SeverityLevel


class Status(StrEnum):
    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"
    CLOSED = "closed"


# action -> (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[Status], Status]] = {
    "acknowledge": (frozenset({Status.TRIGGERED}), Status.ACKNOWLEDGED),
    "mitigate": (frozenset({Status.TRIGGERED, Status.ACKNOWLEDGED}), Status.MITIGATED),
    "resolve": (
        frozenset({Status.TRIGGERED, Status.ACKNOWLEDGED, Status.MITIGATED}),
        Status.RESOLVED,
    ),
    "close": (frozenset({Status.RESOLVED}), Status.CLOSED),
    "reopen": (frozenset({Status.RESOLVED, Status.CLOSED}), Status.TRIGGERED),
}
ACTIONS = tuple(TRANSITIONS)
OPEN_STATUSES = (Status.TRIGGERED, Status.ACKNOWLEDGED, Status.MITIGATED)


def allowed_actions(status: str) -> list[str]:
    return [a for a, (sources, _) in TRANSITIONS.items() if Status(status) in sources]


def next_status(status: str, action: str) -> Status:
    if action not in TRANSITIONS:
        raise InvalidTransition(f"unknown action {action!r}", allowed_actions(status))
    sources, target = TRANSITIONS[action]
    if Status(status) not in sources:
        allowed = allowed_actions(status)
        raise InvalidTransition(
            f"cannot {action} an incident that is {status}; allowed: "
            + (", ".join(allowed) or "none"),
            allowed,
        )
    return target


@dataclass(frozen=True)
class TargetState:
    """Where an incident stands against its severity's response targets."""

    ack_due_at: datetime
    ack_overdue: bool
    next_update_due_at: datetime | None
    update_overdue: bool


def target_state(
    level: SeverityLevel,
    created_at: datetime,
    acknowledged_at: datetime | None,
    last_update_at: datetime | None,
    status: str,
    now: datetime,
) -> TargetState:
    ack_due = created_at + timedelta(minutes=level.ack_within_minutes)
    ack_overdue = acknowledged_at is None and status == Status.TRIGGERED and now > ack_due
    update_due = None
    update_overdue = False
    if level.update_every_minutes and status in OPEN_STATUSES:
        base = last_update_at or created_at
        update_due = base + timedelta(minutes=level.update_every_minutes)
        update_overdue = now > update_due
    return TargetState(ack_due, ack_overdue, update_due, update_overdue)

"""Plain view models the services hand to the API, the UI and the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class PersonRef:
    id: int
    name: str
    email: str


@dataclass(frozen=True)
class UserView:
    id: int
    email: str
    name: str
    role: str
    time_zone: str
    phone: str | None
    active: bool
    teams: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TeamView:
    id: int
    name: str
    description: str
    members: list[PersonRef]


@dataclass(frozen=True)
class ServiceView:
    id: int
    name: str
    description: str
    tier: int
    tags: list[str]
    team: str | None
    owner: PersonRef | None
    escalation_policy_id: int | None = None
    escalation_policy: str | None = None


@dataclass(frozen=True)
class LevelView:
    code: str
    name: str
    description: str
    ack_within_minutes: int
    update_every_minutes: int | None
    coverage: str


@dataclass(frozen=True)
class Targets:
    code: str
    name: str
    ack_within_minutes: int
    update_every_minutes: int | None
    coverage: str
    ack_due_at: datetime
    ack_overdue: bool
    next_update_due_at: datetime | None
    update_overdue: bool


@dataclass(frozen=True)
class ClassificationView:
    kind: str
    severity: str
    reason: str
    rule: str | None
    level: LevelView | None


@dataclass(frozen=True)
class IncidentSummary:
    id: int
    number: int
    title: str
    kind: str
    severity: str
    status: str
    service: str
    owner: PersonRef | None
    created_at: datetime


@dataclass(frozen=True)
class IncidentView:
    id: int
    number: int
    title: str
    description: str
    kind: str
    severity: str
    severity_reason: str
    severity_rule: str | None
    status: str
    service: str
    services: list[str]
    owner: PersonRef | None
    form: str | None
    attributes: dict[str, Any]
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    mitigated_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    allowed_actions: list[str]
    targets: Targets | None
    version: int
    snoozed_until: datetime | None = None


@dataclass(frozen=True)
class EntryView:
    id: int
    at: datetime
    actor: str
    actor_id: int | None
    kind: str
    body: dict[str, Any]
    version: int
    supersedes_id: int | None
    text: str
    edited_by: str | None = None

    @property
    def edited(self) -> bool:
        return self.version > 1


@dataclass(frozen=True)
class TokenCreated:
    id: int
    name: str
    token: str
    user_email: str


@dataclass(frozen=True)
class AttachmentFile:
    id: int
    filename: str
    content_type: str
    size: int
    data: bytes

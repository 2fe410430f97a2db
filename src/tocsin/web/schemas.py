"""Request bodies for the JSON API (responses are the services' view dataclasses)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

# Ids fit a 64-bit column; anything bigger is a 422, not a driver overflow.
MAX_ID = 2**53
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
Version = Annotated[int, Field(ge=1, le=MAX_ID)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IncidentCreate(Strict):
    title: str = Field(min_length=1, max_length=200)
    service: str | int
    form: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    description: str = ""
    services: list[str] = Field(default_factory=list, description="other affected services")
    owner: str | None = Field(None, description="owner's email")


class IncidentPatch(Strict):
    title: str | None = None
    description: str | None = None
    owner: str | None = Field(None, description="owner's email; empty string clears")
    services: list[str] | None = None
    version: Version | None = Field(None, description="fail with 409 unless the incident is at it")


class TransitionBody(Strict):
    note: str = ""
    version: Version | None = None


class SeverityChange(Strict):
    severity: Literal["P1", "P2", "P3", "P4"]
    reason: str = Field(min_length=1)
    version: Version | None = None


class NoteBody(Strict):
    text: str = ""
    kind: Literal["note", "update"] = "note"
    impact: str | None = None
    action: str | None = None
    next_step: str | None = None

    def structured(self) -> dict[str, str]:
        return {k: v for k, v in (("impact", self.impact), ("action", self.action),
                                  ("next_step", self.next_step)) if v}


class NoteEdit(Strict):
    """A new version of a note or update; omitted update parts keep their old values."""

    text: str = ""
    impact: str | None = None
    action: str | None = None
    next_step: str | None = None

    def structured(self) -> dict[str, str | None]:
        return {"impact": self.impact, "action": self.action, "next_step": self.next_step}


class EvaluateBody(Strict):
    service: str | int
    attributes: dict[str, Any] = Field(default_factory=dict)
    form: str | None = None
    partial: bool = False


class ServiceCreate(Strict):
    name: str = Field(min_length=1, max_length=100)
    description: str = ""
    tier: int = Field(3, ge=1, le=4)
    tags: list[str] = Field(default_factory=list)
    team: str | None = None
    owner: str | None = Field(None, description="owner's email")


class ServicePatch(Strict):
    # Omit a field to leave it; null is refused for those that cannot be empty.
    name: str = Field(None, min_length=1, max_length=100)  # type: ignore[assignment]
    description: str = Field(None)  # type: ignore[assignment]
    tier: int = Field(None, ge=1, le=4)  # type: ignore[assignment]
    tags: list[str] = Field(None)  # type: ignore[assignment]
    team: str | None = None
    owner: str | None = None
    # the policy an incident on this service starts (null: page nobody)
    escalation_policy_id: int | None = Field(None, ge=1, le=MAX_ID)


class TeamCreate(Strict):
    name: str
    description: str = ""
    members: list[str] = Field(default_factory=list, description="emails")


class UserCreate(Strict):
    email: str
    password: str | None = None
    role: Literal["admin", "responder", "viewer"] = "responder"
    name: str | None = None
    time_zone: str = "UTC"
    phone: str | None = None


class UserPatch(Strict):
    role: Literal["admin", "responder", "viewer"] | None = None
    active: bool | None = None
    name: str | None = Field(None, min_length=1, max_length=200)
    password: str | None = Field(None, min_length=8, max_length=200)


class TokenCreate(Strict):
    name: str = Field(min_length=1, max_length=100)
    email: str | None = Field(None, description="whose token (admins only); default: yours")


class Page(BaseModel):
    items: list[Any]
    total: int

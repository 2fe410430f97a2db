"""Incident roles (definitions filled from schedules or people, and who holds each role on
an incident over time) and playbook checkpoints (per-severity timed tasks on an incident)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, JSONType, UTCDateTime


class RoleDef(Base):
    """A role people take in an incident: who fills it (a schedule or a person, with an
    alternate) and at which severities it is assigned automatically."""

    __tablename__ = "incident_roles"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    responsibilities: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    primary: Mapped[dict[str, Any] | None] = mapped_column(JSONType)     # {type, id}
    alternate: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    auto_severities: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RoleAssignment(Base):
    """Who held a role on an incident, from when to when; a handoff ends one row and starts
    the next. At most one current holder per role and incident."""

    __tablename__ = "incident_role_assignments"
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"),
                                             index=True)
    role_key: Mapped[str] = mapped_column(String(60))
    role_name: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(Text, default="")
    assigned_by: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("uq_role_current", "incident_id", "role_key", unique=True,
              postgresql_where=text("ended_at IS NULL"), sqlite_where=text("ended_at IS NULL")),
    )


class Playbook(Base):
    """The checkpoints an incident of one severity works through (domain/checkpoints.py)."""

    __tablename__ = "playbooks"
    id: Mapped[int] = mapped_column(primary_key=True)
    severity: Mapped[str] = mapped_column(String(4), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    spec: Mapped[dict[str, Any]] = mapped_column(JSONType)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IncidentTask(Base):
    """A checkpoint on an incident: a task for a role with a deadline, a reminder before it,
    and open → done | overdue → done | cancelled. `remind_at`/`due_at` are the engine's
    timers (cleared once acted on)."""

    __tablename__ = "incident_tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"),
                                             index=True)
    key: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    role_key: Mapped[str | None] = mapped_column(String(60))
    checklist: Mapped[list[Any]] = mapped_column(JSONType, default=list)   # [{text, done}]
    done_when: Mapped[str] = mapped_column(String(20), default="")   # "" | acknowledged
    every_minutes: Mapped[int | None] = mapped_column(Integer)
    severity: Mapped[str] = mapped_column(String(4), default="")    # the playbook's ("" by hand)
    occurrence: Mapped[int] = mapped_column(Integer, default=0)
    origin: Mapped[datetime | None] = mapped_column(UTCDateTime())   # what at_minutes count from
    checkpoint: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)   # the snapshot
    notify: Mapped[bool] = mapped_column(Boolean, default=True)
    remind_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    # pending (not started yet) | open | overdue | done | cancelled
    status: Mapped[str] = mapped_column(String(20))
    next_at: Mapped[datetime | None] = mapped_column(UTCDateTime())   # engine timer
    stage: Mapped[str] = mapped_column(String(20), default="start")   # start | remind | due
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_by: Mapped[str] = mapped_column(String(200), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        UniqueConstraint("incident_id", "key", name="uq_incident_task_key"),
        Index("ix_incident_task_due", "next_at",
              postgresql_where=text("next_at IS NOT NULL"), sqlite_where=text("next_at IS NOT NULL")),
    )

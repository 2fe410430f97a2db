"""Repositories for incident roles (definitions and who holds them), playbooks and the
checkpoint tasks on incidents."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select

from .models import Incident, IncidentTask, Playbook, RoleAssignment, RoleDef
from .paging_repos import _locked
from .repositories import _Repo


class RoleRepo(_Repo):
    def list(self) -> Sequence[RoleDef]:
        return self.s.scalars(select(RoleDef).order_by(RoleDef.position, RoleDef.id)).all()

    def by_key(self, key: str) -> RoleDef | None:
        return self.s.scalar(select(RoleDef).where(RoleDef.key == key))

    def get(self, role_id: int) -> RoleDef | None:
        return self.s.get(RoleDef, role_id)

    def add(self, row: RoleDef) -> RoleDef:
        self.s.add(row)
        self.s.flush()
        return row

    def delete(self, row: RoleDef) -> None:
        self.s.delete(row)

    def holders(self, incident_id: int) -> Sequence[RoleAssignment]:
        """Who holds each role on the incident now."""
        return self.s.scalars(select(RoleAssignment).where(
            RoleAssignment.incident_id == incident_id, RoleAssignment.ended_at.is_(None))
            .order_by(RoleAssignment.id)).all()

    def holder(self, incident_id: int, role_key: str) -> RoleAssignment | None:
        return self.s.scalar(select(RoleAssignment).where(
            RoleAssignment.incident_id == incident_id, RoleAssignment.role_key == role_key,
            RoleAssignment.ended_at.is_(None)))

    def history(self, incident_id: int) -> Sequence[RoleAssignment]:
        return self.s.scalars(select(RoleAssignment).where(
            RoleAssignment.incident_id == incident_id).order_by(RoleAssignment.id)).all()

    def assign(self, row: RoleAssignment) -> RoleAssignment:
        self.s.add(row)
        self.s.flush()
        return row

    def held_on_open_incidents(self, role_key: str) -> int:
        return self.s.scalar(select(func.count()).select_from(RoleAssignment).join(
            Incident, Incident.id == RoleAssignment.incident_id).where(
            RoleAssignment.role_key == role_key, RoleAssignment.ended_at.is_(None),
            Incident.status.not_in(("resolved", "closed")))) or 0

    def held_by(self, user_id: int) -> Sequence[RoleAssignment]:
        return self.s.scalars(select(RoleAssignment).where(
            RoleAssignment.user_id == user_id, RoleAssignment.ended_at.is_(None))).all()


class PlaybookRepo(_Repo):
    def list(self) -> Sequence[Playbook]:
        return self.s.scalars(select(Playbook).order_by(Playbook.severity)).all()

    def for_severity(self, severity: str) -> Playbook | None:
        return self.s.scalar(select(Playbook).where(Playbook.severity == severity))

    def add(self, row: Playbook) -> Playbook:
        self.s.add(row)
        self.s.flush()
        return row

    def delete(self, row: Playbook) -> None:
        self.s.delete(row)


class TaskRepo(_Repo):
    def add(self, row: IncidentTask) -> IncidentTask | None:
        """Once per (incident, key): an occurrence already planned is not planned again."""
        if self.by_key(row.incident_id, row.key) is not None:
            return None
        self.s.add(row)
        self.s.flush()
        return row

    def by_key(self, incident_id: int, key: str) -> IncidentTask | None:
        return self.s.scalar(select(IncidentTask).where(
            IncidentTask.incident_id == incident_id, IncidentTask.key == key))

    def get(self, task_id: int) -> IncidentTask | None:
        return self.s.get(IncidentTask, task_id)

    def for_incident(self, incident_id: int) -> Sequence[IncidentTask]:
        return self.s.scalars(select(IncidentTask).where(IncidentTask.incident_id == incident_id)
                              .order_by(IncidentTask.starts_at, IncidentTask.id)).all()

    def live(self, incident_id: int) -> Sequence[IncidentTask]:
        return self.s.scalars(select(IncidentTask).where(
            IncidentTask.incident_id == incident_id,
            IncidentTask.status.in_(("pending", "open", "overdue")))).all()

    def due(self, now: datetime, limit: int) -> Sequence[IncidentTask]:
        q = (select(IncidentTask).where(IncidentTask.next_at.is_not(None),
                                        IncidentTask.next_at <= now)
             .order_by(IncidentTask.next_at, IncidentTask.id).limit(limit))
        return self.s.scalars(_locked(self.s, q)).all()

    def next_due_at(self) -> datetime | None:
        return self.s.scalar(select(func.min(IncidentTask.next_at))
                             .where(IncidentTask.next_at.is_not(None)))

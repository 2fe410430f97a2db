"""Repositories for paging: contact methods (their tests and a person's notification rules),
escalation policies and running escalations, the notification outbox and its attempts,
one-time ack tokens."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .models import (
    AckToken,
    ContactMethod,
    ContactVerification,
    Escalation,
    EscalationPolicy,
    Notification,
    NotificationAttempt,
    NotificationRule,
    PersonFeed,
    ScheduleOverride,
    ScheduleRow,
    TeamMember,
)
from .repositories import _Repo


def _locked(session: Any, q: Any) -> Any:
    """PostgreSQL: rows another engine holds are skipped, so engines share the work.
    (SQLite has one writer at a time and ignores FOR UPDATE anyway.)"""
    if session.get_bind().dialect.name == "postgresql":
        return q.with_for_update(skip_locked=True)
    return q


class PeopleRepo(_Repo):
    def methods(self, user_id: int) -> Sequence[ContactMethod]:
        return self.s.scalars(select(ContactMethod).where(ContactMethod.user_id == user_id)
                              .order_by(ContactMethod.id)).all()

    def add_method(self, row: ContactMethod) -> ContactMethod:
        self.s.add(row)
        self.s.flush()
        return row

    def team_member_ids(self, team_id: int) -> list[int]:
        return list(self.s.scalars(select(TeamMember.user_id).where(TeamMember.team_id == team_id)
                                   .order_by(TeamMember.user_id)))

    def method(self, method_id: int) -> ContactMethod | None:
        return self.s.get(ContactMethod, method_id)

    def all_methods(self) -> Sequence[ContactMethod]:
        return self.s.scalars(select(ContactMethod).order_by(ContactMethod.user_id,
                                                             ContactMethod.id)).all()

    def rules(self, user_id: int | None = None) -> Sequence[NotificationRule]:
        """A person's notification rules in their order (everyone's when no user_id)."""
        q = select(NotificationRule).order_by(NotificationRule.user_id, NotificationRule.position)
        if user_id is not None:
            q = q.where(NotificationRule.user_id == user_id)
        return self.s.scalars(q).all()

    def replace_rules(self, user_id: int, rows: list[NotificationRule]) -> None:
        self.s.execute(delete(NotificationRule).where(NotificationRule.user_id == user_id))
        self.s.add_all(rows)

    def add_verification(self, row: ContactVerification) -> ContactVerification:
        self.s.add(row)
        self.s.flush()
        return row

    def latest_verifications(self, method_ids: Sequence[int]) -> dict[int, ContactVerification]:
        """The latest test of each of these contact methods (only the latest counts)."""
        if not method_ids:
            return {}
        latest = (select(func.max(ContactVerification.id))
                  .where(ContactVerification.contact_method_id.in_(list(method_ids)))
                  .group_by(ContactVerification.contact_method_id))
        rows = self.s.scalars(select(ContactVerification)
                              .where(ContactVerification.id.in_(latest))).all()
        return {r.contact_method_id: r for r in rows}

    def verification_by_link(self, link_hash: str) -> ContactVerification | None:
        return self.s.scalar(select(ContactVerification)
                             .where(ContactVerification.link_hash == link_hash))

    def verification(self, verification_id: int) -> ContactVerification | None:
        return self.s.get(ContactVerification, verification_id)

    def latest_verification_locked(self, method_id: int) -> ContactVerification | None:
        """The latest test, locked on PostgreSQL so that parallel wrong codes all count
        (SQLite has one writer at a time)."""
        return self.s.scalar(select(ContactVerification)
                             .where(ContactVerification.contact_method_id == method_id)
                             .order_by(ContactVerification.id.desc()).limit(1).with_for_update())


class PolicyRepo(_Repo):
    def add(self, row: EscalationPolicy) -> EscalationPolicy:
        self.s.add(row)
        self.s.flush()
        return row

    def get(self, policy_id: int) -> EscalationPolicy | None:
        return self.s.get(EscalationPolicy, policy_id)

    def by_name(self, name: str) -> EscalationPolicy | None:
        return self.s.scalar(select(EscalationPolicy).where(EscalationPolicy.name == name))

    def list(self) -> Sequence[EscalationPolicy]:
        return self.s.scalars(select(EscalationPolicy).order_by(EscalationPolicy.name)).all()


class EscalationRepo(_Repo):
    def add(self, row: Escalation) -> Escalation:
        self.s.add(row)
        self.s.flush()
        return row

    def active_for(self, incident_id: int) -> Sequence[Escalation]:
        return self.s.scalars(select(Escalation).where(Escalation.incident_id == incident_id,
                                                       Escalation.status == "active")).all()

    def for_incident(self, incident_id: int) -> Sequence[Escalation]:
        return self.s.scalars(select(Escalation).where(Escalation.incident_id == incident_id)
                              .order_by(Escalation.id)).all()

    def due(self, now: datetime, limit: int) -> Sequence[Escalation]:
        q = (select(Escalation).where(Escalation.status == "active", Escalation.next_at <= now)
             .order_by(Escalation.next_at).limit(limit))
        return self.s.scalars(_locked(self.s, q)).all()


    def next_due_at(self) -> datetime | None:
        return self.s.scalar(select(func.min(Escalation.next_at))
                             .where(Escalation.status == "active"))


class NotificationRepo(_Repo):
    def add_once(self, values: dict[str, Any]) -> bool:
        """Insert unless a notification with this key exists (then nothing): a step that
        fires twice (two engines, a retried cycle) still sends once."""
        ins = (pg_insert if self.s.get_bind().dialect.name == "postgresql" else sqlite_insert)
        stmt = (ins(Notification).values(**values).on_conflict_do_nothing(index_elements=["key"])
                .returning(Notification.id))
        # (rowcount is -1 here with psycopg: whether a row came back says if it was new)
        return self.s.execute(stmt).scalar() is not None

    def add(self, row: Notification) -> Notification:
        """A notification whose key is new by construction (e.g. a contact method's test)."""
        self.s.add(row)
        self.s.flush()
        return row

    def get(self, notification_id: int) -> Notification | None:
        return self.s.get(Notification, notification_id)

    def due(self, now: datetime, limit: int) -> Sequence[Notification]:
        q = (select(Notification).where(Notification.status == "pending",
                                        Notification.next_attempt_at <= now)
             .order_by(Notification.next_attempt_at, Notification.id).limit(limit))
        return self.s.scalars(_locked(self.s, q)).all()

    def next_due_at(self) -> datetime | None:
        return self.s.scalar(select(func.min(Notification.next_attempt_at))
                             .where(Notification.status == "pending"))

    def stuck(self, now: datetime, limit: int) -> Sequence[Notification]:
        q = (select(Notification).where(Notification.status == "sending",
                                        Notification.claimed_until < now).limit(limit))
        return self.s.scalars(_locked(self.s, q)).all()

    def pending_for(self, incident_id: int) -> Sequence[Notification]:
        return self.s.scalars(select(Notification).where(
            Notification.incident_id == incident_id, Notification.status == "pending")).all()

    def for_incident(self, incident_id: int) -> Sequence[Notification]:
        return self.s.scalars(select(Notification).where(Notification.incident_id == incident_id)
                              .order_by(Notification.id)).all()

    def with_key_prefix(self, prefixes: tuple[str, ...], limit: int) -> Sequence[Notification]:
        q = select(Notification).where(or_(*(Notification.key.startswith(p, autoescape=True)
                                             for p in prefixes)))
        return self.s.scalars(q.order_by(Notification.id.desc()).limit(limit)).all()

    def add_attempt(self, row: NotificationAttempt) -> None:
        self.s.add(row)

    def attempts(self, ids: list[int]) -> Sequence[NotificationAttempt]:
        if not ids:
            return []
        return self.s.scalars(select(NotificationAttempt)
                              .where(NotificationAttempt.notification_id.in_(ids))
                              .order_by(NotificationAttempt.id)).all()


class AckTokenRepo(_Repo):
    def add(self, row: AckToken) -> None:
        self.s.add(row)

    def get(self, token_hash: str) -> AckToken | None:
        return self.s.get(AckToken, token_hash)


class ScheduleRepo(_Repo):
    def add(self, row: ScheduleRow) -> ScheduleRow:
        self.s.add(row)
        self.s.flush()
        return row

    def get(self, schedule_id: int) -> ScheduleRow | None:
        return self.s.get(ScheduleRow, schedule_id)

    def by_name(self, name: str) -> ScheduleRow | None:
        return self.s.scalar(select(ScheduleRow).where(ScheduleRow.name == name))

    def by_feed(self, token: str) -> ScheduleRow | None:
        return self.s.scalar(select(ScheduleRow).where(ScheduleRow.feed_token == token))

    def list(self) -> Sequence[ScheduleRow]:
        return self.s.scalars(select(ScheduleRow).order_by(ScheduleRow.name)).all()

    def overrides(self, schedule_id: int, start: datetime, end: datetime) -> Sequence[ScheduleOverride]:
        """Those overlapping [start, end), oldest first (a later one wins)."""
        return self.s.scalars(select(ScheduleOverride).where(
            ScheduleOverride.schedule_id == schedule_id, ScheduleOverride.starts_at < end,
            ScheduleOverride.ends_at > start).order_by(ScheduleOverride.id)).all()

    def add_override(self, row: ScheduleOverride) -> ScheduleOverride:
        self.s.add(row)
        self.s.flush()
        return row

    def feed_of(self, user_id: int) -> PersonFeed | None:
        return self.s.get(PersonFeed, user_id)

    def person_by_feed(self, token: str) -> PersonFeed | None:
        return self.s.scalar(select(PersonFeed).where(PersonFeed.feed_token == token))

    def add_feed(self, row: PersonFeed) -> None:
        self.s.add(row)

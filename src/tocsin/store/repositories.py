"""Repositories: queries and inserts over one session. They flush when they must, never commit."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session, aliased

from ..domain.audit import GENESIS, record_hash
from .models import (
    ApiToken,
    Attachment,
    AuditHead,
    AuditLog,
    Counter,
    Form,
    Incident,
    IncidentService,
    Service,
    Setting,
    SeverityLevelRow,
    SeverityRuleRow,
    Team,
    TeamMember,
    TimelineEntry,
    User,
    WebSession,
)

MAX_ID = 2**53  # larger ids cannot exist; looking them up would overflow the driver


class _Repo:
    def __init__(self, session: Session) -> None:
        self.s = session

    def preload(self, model: Any, ids: Any) -> None:
        """Load these rows in a few queries; later `get`s of them then cost no round trip
        (the session's identity map holds them). For batch loops in the engine."""
        wanted = sorted({i for i in ids if i})
        # The session's identity map holds clean rows weakly: keep them for this unit of
        # work, or they are collected and every `get` goes back to the database.
        kept = self.__dict__.setdefault("_kept", [])
        for k in range(0, len(wanted), 500):
            kept += self.s.scalars(select(model).where(model.id.in_(wanted[k:k + 500]))).all()


class UserRepo(_Repo):
    def get(self, user_id: int) -> User | None:
        return self.s.get(User, user_id)

    def by_email(self, email: str) -> User | None:
        return self.s.scalar(select(User).where(User.email == email.strip().lower()))

    def add(self, user: User) -> User:
        self.s.add(user)
        self.s.flush()
        return user

    def list(self) -> Sequence[User]:
        return self.s.scalars(select(User).order_by(User.name)).all()

    def count(self) -> int:
        return self.s.scalar(select(func.count()).select_from(User)) or 0


class TokenRepo(_Repo):
    def add(self, token: ApiToken) -> ApiToken:
        self.s.add(token)
        self.s.flush()
        return token

    def by_hash(self, token_hash: str) -> ApiToken | None:
        return self.s.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash))

    def for_user(self, user_id: int) -> Sequence[ApiToken]:
        return self.s.scalars(select(ApiToken).where(ApiToken.user_id == user_id)).all()


class SessionRepo(_Repo):
    def add(self, row: WebSession) -> None:
        self.s.add(row)

    def get(self, token_hash: str) -> WebSession | None:
        return self.s.get(WebSession, token_hash)


class TeamRepo(_Repo):
    def by_name(self, name: str) -> Team | None:
        return self.s.scalar(select(Team).where(Team.name == name))

    def get(self, team_id: int) -> Team | None:
        return self.s.get(Team, team_id)

    def list(self) -> Sequence[Team]:
        return self.s.scalars(select(Team).order_by(Team.name)).all()

    def add(self, team: Team) -> Team:
        self.s.add(team)
        self.s.flush()
        return team

    def member_ids(self, team_id: int) -> list[int]:
        q = select(TeamMember.user_id).where(TeamMember.team_id == team_id)
        return list(self.s.scalars(q))

    def set_members(self, team_id: int, user_ids: list[int]) -> None:
        for m in self.s.scalars(select(TeamMember).where(TeamMember.team_id == team_id)):
            self.s.delete(m)
        self.s.flush()
        for uid in dict.fromkeys(user_ids):
            self.s.add(TeamMember(team_id=team_id, user_id=uid))
        self.s.flush()


class ServiceRepo(_Repo):
    def get(self, service_id: int) -> Service | None:
        return self.s.get(Service, service_id)

    def by_name(self, name: str) -> Service | None:
        return self.s.scalar(select(Service).where(Service.name == name))

    def resolve(self, ref: str | int) -> Service | None:
        """A service by name, else by id (names are never all digits, so no ambiguity)."""
        found = self.by_name(str(ref)) if isinstance(ref, str) else None
        if found is None and str(ref).isdigit() and int(ref) <= MAX_ID:
            found = self.get(int(ref))
        return found

    def list(self) -> Sequence[Service]:
        return self.s.scalars(select(Service).order_by(Service.name)).all()

    def names(self) -> list[str]:
        return list(self.s.scalars(select(Service.name)))

    def add(self, service: Service) -> Service:
        self.s.add(service)
        self.s.flush()
        return service


class FormRepo(_Repo):
    def by_name(self, name: str) -> Form | None:
        return self.s.scalar(select(Form).where(Form.name == name))

    def list(self) -> Sequence[Form]:
        return self.s.scalars(select(Form).order_by(Form.name)).all()

    def for_service(self, service_id: int, kind: str | None) -> Sequence[Form]:
        q = select(Form).where(Form.service_id == service_id)
        if kind:
            q = q.where(Form.kind == kind)
        return self.s.scalars(q.order_by(Form.name)).all()

    def add(self, form: Form) -> Form:
        self.s.add(form)
        self.s.flush()
        return form

    def delete(self, form: Form) -> None:
        self.s.delete(form)


class SeverityRepo(_Repo):
    def levels(self) -> Sequence[SeverityLevelRow]:
        return self.s.scalars(select(SeverityLevelRow).order_by(SeverityLevelRow.code)).all()

    def level(self, code: str) -> SeverityLevelRow | None:
        return self.s.get(SeverityLevelRow, code)

    def put_level(self, row: SeverityLevelRow) -> None:
        self.s.merge(row)

    def rules(self) -> Sequence[SeverityRuleRow]:
        return self.s.scalars(select(SeverityRuleRow).order_by(SeverityRuleRow.position)).all()

    def replace_rules(self, specs: list[dict[str, Any]]) -> None:
        for row in self.rules():
            self.s.delete(row)
        self.s.flush()
        for i, spec in enumerate(specs):
            self.s.add(SeverityRuleRow(position=i, name=spec["name"], spec=spec))


class SettingRepo(_Repo):
    def get(self, key: str, default: Any = None) -> Any:
        row = self.s.get(Setting, key)
        return default if row is None else row.value

    def put(self, key: str, value: Any) -> None:
        self.s.merge(Setting(key=key, value=value))


@dataclass(frozen=True)
class IncidentFilter:
    status: str | None = None
    severity: str | None = None
    service_id: int | None = None
    kind: str | None = None
    limit: int = 50
    offset: int = 0


class IncidentRepo(_Repo):
    def get(self, incident_id: int) -> Incident | None:
        return self.s.get(Incident, incident_id) if 0 < incident_id <= MAX_ID else None

    def add(self, incident: Incident) -> Incident:
        self.s.add(incident)
        self.s.flush()
        return incident

    def touch(self, incident_id: int, at: datetime, is_update: bool) -> None:
        """Record activity without a version bump (appending is not a state change)."""
        values: dict[str, Any] = {"updated_at": at}
        if is_update:
            values["last_update_at"] = at
        self.s.execute(update(Incident).where(Incident.id == incident_id).values(**values)
                       .execution_options(synchronize_session=False))

    def next_number(self) -> int:
        if self.s.get_bind().dialect.name == "postgresql":
            # A sequence hands out numbers without holding a row lock until commit;
            # a rolled-back declaration leaves a gap, which is harmless.
            return int(self.s.execute(text("SELECT nextval('incident_number_seq')")).scalar_one())
        stmt = (update(Counter).where(Counter.name == "incident")
                .values(value=Counter.value + 1).returning(Counter.value))
        value = self.s.execute(stmt).scalar()
        if value is None:  # first incident ever
            self.s.add(Counter(name="incident", value=1))
            self.s.flush()
            return 1
        return int(value)

    def _filtered(self, f: IncidentFilter):  # noqa: ANN202
        q = select(Incident)
        if f.status:
            q = q.where(Incident.status.in_(f.status.split(",")))
        if f.severity:
            q = q.where(Incident.severity.in_(f.severity.split(",")))
        if f.service_id:
            q = q.where(Incident.service_id == f.service_id)
        if f.kind:
            q = q.where(Incident.kind == f.kind)
        return q

    def list(self, f: IncidentFilter) -> Sequence[Incident]:
        q = self._filtered(f).order_by(Incident.created_at.desc(), Incident.id.desc())
        return self.s.scalars(q.limit(f.limit).offset(f.offset)).all()

    def count(self, f: IncidentFilter) -> int:
        return self.s.scalar(select(func.count()).select_from(self._filtered(f).subquery())) or 0

    def snoozed_due(self, now: datetime, limit: int) -> Sequence[Incident]:
        q = (select(Incident).where(Incident.snoozed_until.is_not(None),
                                    Incident.snoozed_until <= now)
             .order_by(Incident.snoozed_until).limit(limit))
        return self.s.scalars(q).all()

    def change_marker(self, incident_id: int) -> tuple:
        row = self.s.execute(select(Incident.version, Incident.updated_at)
                             .where(Incident.id == incident_id)).one_or_none()
        last = self.s.scalar(select(func.max(TimelineEntry.id))
                             .where(TimelineEntry.incident_id == incident_id))
        return (tuple(row) if row else None, last)

    def affected_service_ids(self, incident_id: int) -> list[int]:
        q = select(IncidentService.service_id).where(IncidentService.incident_id == incident_id)
        return list(self.s.scalars(q))

    def set_affected(self, incident_id: int, service_ids: list[int]) -> None:
        q = select(IncidentService).where(IncidentService.incident_id == incident_id)
        for row in self.s.scalars(q):
            self.s.delete(row)
        self.s.flush()
        for sid in dict.fromkeys(service_ids):
            self.s.add(IncidentService(incident_id=incident_id, service_id=sid))
        self.s.flush()


class TimelineRepo(_Repo):
    def get(self, entry_id: int) -> TimelineEntry | None:
        return self.s.get(TimelineEntry, entry_id)

    def add(self, entry: TimelineEntry) -> TimelineEntry:
        self.s.add(entry)
        return entry

    def current(self, incident_id: int) -> Sequence[TimelineEntry]:
        """Latest version of each entry, in time order."""
        newer = aliased(TimelineEntry)
        q = (select(TimelineEntry)
             .outerjoin(newer, newer.supersedes_id == TimelineEntry.id)
             .where(TimelineEntry.incident_id == incident_id, newer.id.is_(None))
             .order_by(TimelineEntry.at, TimelineEntry.id))
        return self.s.scalars(q).all()

    def is_superseded(self, entry_id: int) -> bool:
        q = select(TimelineEntry.id).where(TimelineEntry.supersedes_id == entry_id)
        return self.s.scalar(q) is not None

    def history(self, entry: TimelineEntry) -> list[TimelineEntry]:
        """Every version of this entry, newest first (from any version of it)."""
        while True:
            newer = self.s.scalar(select(TimelineEntry)
                                  .where(TimelineEntry.supersedes_id == entry.id))
            if newer is None:
                break
            entry = newer
        out = [entry]
        while out[-1].supersedes_id is not None:
            prev = self.get(out[-1].supersedes_id)
            if prev is None:
                break
            out.append(prev)
        return out

    def iter_all(self) -> Iterator[TimelineEntry]:
        q = select(TimelineEntry).order_by(TimelineEntry.id).execution_options(yield_per=1000)
        yield from self.s.scalars(q)


class AttachmentRepo(_Repo):
    def add(self, att: Attachment) -> Attachment:
        self.s.add(att)
        self.s.flush()
        return att

    def get(self, att_id: int) -> Attachment | None:
        return self.s.get(Attachment, att_id)

    def for_incident(self, incident_id: int) -> Sequence[Attachment]:
        q = select(Attachment).where(Attachment.incident_id == incident_id)
        return self.s.scalars(q.order_by(Attachment.id)).all()


@dataclass(frozen=True)
class AuditEvent:
    actor: str
    action: str
    subject: str
    data: dict[str, Any]


class AuditRepo(_Repo):
    def append(self, events: list[AuditEvent], at: datetime) -> None:
        """Extend the chain. The UPDATE on the head row serialises concurrent appenders
        until commit; the unique hash and primary-key seq keep the chain a line anyway."""
        stmt = (update(AuditHead).where(AuditHead.id == 1)
                .values(seq=AuditHead.seq + len(events))
                .returning(AuditHead.seq, AuditHead.hash))
        row = self.s.execute(stmt).one_or_none()
        if row is None:
            self.s.add(AuditHead(id=1, seq=len(events), hash=GENESIS))
            self.s.flush()
            last_seq, prev = len(events), GENESIS
        else:
            last_seq, prev = row
        seq = last_seq - len(events)
        at_s = at.isoformat()
        for ev in events:
            seq += 1
            h = record_hash(prev, seq, at_s, ev.actor, ev.action, ev.subject, ev.data)
            self.s.add(AuditLog(seq=seq, at=at, actor=ev.actor, action=ev.action,
                                subject=ev.subject, data=ev.data, prev_hash=prev, hash=h))
            prev = h
        self.s.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=prev))

    def head(self) -> tuple[int, str]:
        row = self.s.get(AuditHead, 1)
        return (0, GENESIS) if row is None else (row.seq, row.hash)

    def iter_all(self) -> Iterator[AuditLog]:
        q = select(AuditLog).order_by(AuditLog.seq).execution_options(yield_per=1000)
        yield from self.s.scalars(q)

    def for_subject(self, subject: str) -> Sequence[AuditLog]:
        q = select(AuditLog).where(AuditLog.subject == subject).order_by(AuditLog.seq)
        return self.s.scalars(q).all()

"""Unit of work: one transaction, its repositories, and the audit records it must leave."""

from __future__ import annotations

from collections.abc import Callable
from typing import Self

from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from ..domain.audit import digest
from ..domain.errors import Conflict, FieldError, ValidationFailed
from ..ports import Clock
from .alerting_repos import (
    AlertRepo,
    DeadLetterRepo,
    GroupRepo,
    IntakeRepo,
    IntegrationRepo,
    SilenceRepo,
)
from .db import SqliteWriteLock
from .models import TimelineEntry
from .paging_repos import (
    AckTokenRepo,
    EscalationRepo,
    NotificationRepo,
    PeopleRepo,
    PolicyRepo,
    ScheduleRepo,
)
from .repositories import (
    AttachmentRepo,
    AuditEvent,
    AuditRepo,
    FormRepo,
    IncidentRepo,
    ServiceRepo,
    SessionRepo,
    SettingRepo,
    SeverityRepo,
    TeamRepo,
    TimelineRepo,
    TokenRepo,
    UserRepo,
)
from .roles_repos import PlaybookRepo, RoleRepo, TaskRepo


def entry_digest(e: TimelineEntry) -> str:
    return digest({
        "id": e.id, "incident_id": e.incident_id, "at": e.at.isoformat(), "actor_id": e.actor_id,
        "actor_name": e.actor_name, "kind": e.kind, "body": e.body, "version": e.version,
        "supersedes_id": e.supersedes_id,
    })


class UnitOfWork:
    def __init__(self, session_factory: Callable[[], Session], clock: Clock,
                 write_lock: SqliteWriteLock | None = None) -> None:
        self._factory = session_factory
        self.clock = clock
        self._write_lock = write_lock
        self._lock: SqliteWriteLock | None = None

    def __enter__(self) -> Self:
        if self._write_lock is not None:
            self._write_lock.acquire()
            self._lock = self._write_lock
        self.session = s = self._factory()
        self.users, self.tokens, self.teams = UserRepo(s), TokenRepo(s), TeamRepo(s)
        self.web_sessions = SessionRepo(s)
        self.services, self.forms, self.severity = ServiceRepo(s), FormRepo(s), SeverityRepo(s)
        self.settings, self.incidents = SettingRepo(s), IncidentRepo(s)
        self.timeline, self.attachments, self.audit = TimelineRepo(s), AttachmentRepo(s), AuditRepo(s)
        self.integrations, self.intake = IntegrationRepo(s), IntakeRepo(s)
        self.dead_letters, self.alerts = DeadLetterRepo(s), AlertRepo(s)
        self.groups, self.silences = GroupRepo(s), SilenceRepo(s)
        self.people, self.policies = PeopleRepo(s), PolicyRepo(s)
        self.escalations, self.notifications = EscalationRepo(s), NotificationRepo(s)
        self.ack_tokens, self.schedules = AckTokenRepo(s), ScheduleRepo(s)
        self.roles, self.playbooks, self.tasks = RoleRepo(s), PlaybookRepo(s), TaskRepo(s)
        self._events: list[AuditEvent] = []
        self._entries: list[tuple[str, TimelineEntry]] = []
        self._before_commit: list[Callable[[], None]] = []
        return self

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: object) -> None:
        try:
            self.session.rollback()
            self.session.close()
        finally:
            if self._lock is not None:
                self._lock.release()
        # A flush inside a use case can fail the same ways as commit: same translation.
        if isinstance(exc, StaleDataError):
            raise Conflict("the record was changed by someone else; reload and retry") from exc
        if isinstance(exc, IntegrityError):
            raise Conflict(f"conflicts with existing data: {exc.orig}") from exc
        if isinstance(exc, DataError):
            raise ValidationFailed([FieldError("value", _first_line(exc.orig))],
                                   "a value does not fit the database") from exc
        if isinstance(exc, UnicodeEncodeError):
            raise ValidationFailed([FieldError("value", "text with invalid characters (lone "
                                               "surrogates)")], "invalid text") from exc

    def record(self, actor: str, action: str, subject: str, data: dict) -> None:
        """Queue an audit record; it is chained in at commit."""
        self._events.append(AuditEvent(actor, action, subject, data))

    def append_entry(self, actor: str, entry: TimelineEntry) -> TimelineEntry:
        self.timeline.add(entry)
        self._entries.append((actor, entry))
        return entry

    def before_commit(self, hook: Callable[[], None]) -> None:
        """Run `hook` at the start of the next commit (work a use case batches up)."""
        self._before_commit.append(hook)

    def commit(self) -> None:
        try:
            hooks, self._before_commit = self._before_commit, []
            for hook in hooks:
                hook()
            self.session.flush()
            events = self._events + [
                AuditEvent(actor, "timeline.append", f"incident:{e.incident_id}",
                           {"entry_id": e.id, "kind": e.kind, "digest": entry_digest(e)})
                for actor, e in self._entries
            ]
            if events:
                self.audit.append(events, self.clock.now())
            self.session.commit()
        except StaleDataError as exc:
            raise Conflict("the record was changed by someone else; reload and retry") from exc
        except IntegrityError as exc:
            raise Conflict(f"conflicts with existing data: {exc.orig}") from exc
        except DataError as exc:
            raise ValidationFailed([FieldError("value", _first_line(exc.orig))],
                                   "a value does not fit the database") from exc
        except UnicodeEncodeError as exc:
            raise ValidationFailed([FieldError("value", "text with invalid characters (lone "
                                               "surrogates)")], "invalid text") from exc
        finally:
            self._events, self._entries = [], []


def _first_line(orig: object) -> str:
    return str(orig).strip().splitlines()[0] if str(orig).strip() else "invalid value"


def make_session_factory(engine) -> sessionmaker[Session]:  # noqa: ANN001
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)

"""Repositories for alert intake and triage (never commit)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Json
from sqlalchemy import Connection, Engine, func, insert, or_, select, text, update
from sqlalchemy.orm import defer

from .db import SqliteWriteLock
from .db import dumps as json_text
from .models import (
    Alert,
    AlertGroup,
    DeadLetter,
    IntakeEvent,
    IntakeSpool,
    Integration,
    IntegrationNotice,
    SilenceRow,
)
from .repositories import _Repo


class IntegrationRepo(_Repo):
    def get(self, integration_id: int) -> Integration | None:
        return self.s.get(Integration, integration_id)

    def by_key(self, key: str) -> Integration | None:
        return self.s.scalar(select(Integration).where(Integration.key == key))

    def list(self, service_id: int | None = None) -> Sequence[Integration]:
        q = select(Integration).order_by(Integration.id)
        if service_id:
            q = q.where(Integration.service_id == service_id)
        return self.s.scalars(q).all()

    def add(self, row: Integration) -> Integration:
        self.s.add(row)
        self.s.flush()
        return row


    def notices(self, limit: int = 20) -> Sequence[IntegrationNotice]:
        q = select(IntegrationNotice).order_by(IntegrationNotice.id.desc()).limit(limit)
        return self.s.scalars(q).all()


class IntakeRepo(_Repo):
    def pending(self, limit: int, max_alerts: int | None = None) -> list[IntakeEvent]:
        """The oldest untriaged events: up to `limit`, and no more than it takes to hold
        `max_alerts` alerts (always at least one event). Read in small pages, so that a
        backlog of 100-alert events is not decoded whole to take a few of them."""
        q = (select(IntakeEvent).where(IntakeEvent.processed_at.is_(None))
             .options(defer(IntakeEvent.body))  # raw bodies are for people, not for triage
             .order_by(IntakeEvent.id).limit(limit))
        # Read in pages, so that 100-alert events are decoded only as far as needed: SQLite
        # steps a plain cursor (pages cost nothing); PostgreSQL pages a server-side cursor,
        # 20 round trips for 500 one-alert events. (Read whole, a backlog of 100-alert
        # events had 500 decoded to take 10: 40% of triage's time, 1,900 -> 3,200 alerts/s.)
        sqlite = self.s.get_bind().dialect.name == "sqlite"
        q = q.execution_options(yield_per=16 if sqlite else 25)
        taken: list[IntakeEvent] = []
        count = 0
        result = self.s.scalars(q)
        try:
            for event in result:
                taken.append(event)
                count += len(event.alerts)
                if max_alerts is not None and count >= max_alerts:
                    break
        finally:
            result.close()
        return taken

    def inflow(self, cap: int) -> tuple[int, datetime | None]:
        """(untriaged events, counted up to `cap`; when the newest event was received).
        Two index reads whatever the backlog (the partial pending index, the primary key)."""
        waiting = self.s.scalar(select(func.count()).select_from(
            select(IntakeEvent.id).where(IntakeEvent.processed_at.is_(None)).limit(cap)
            .subquery())) or 0
        newest = self.s.scalar(select(IntakeEvent.received_at)
                               .order_by(IntakeEvent.id.desc()).limit(1))
        return waiting, newest

    def get(self, event_id: int) -> IntakeEvent | None:
        return self.s.get(IntakeEvent, event_id)

    def add(self, row: IntakeEvent) -> IntakeEvent:
        self.s.add(row)
        self.s.flush()
        return row

    def count_pending(self) -> int:
        q = select(func.count()).select_from(IntakeEvent).where(IntakeEvent.processed_at.is_(None))
        return self.s.scalar(q) or 0

    def spool_marks(self) -> dict[str, int]:
        """How far each intake spool has been moved (store/spool.py)."""
        return {name: upto for name, upto in
                self.s.execute(select(IntakeSpool.name, IntakeSpool.moved_upto))}

    def move_spooled(self, events: Sequence[Any], marks: dict[str, int]) -> None:
        """Spooled events (store.spool.SpooledEvent) into intake_events, in the given order,
        and the new marks with them. Values go in as stored: no decoding and encoding."""
        if events:
            # An integration deleted meanwhile takes its events with it (as ON DELETE CASCADE
            # does for those already moved), rather than failing every later move.
            self.s.execute(text(
                "INSERT INTO intake_events (integration_id, received_at, content_type, body, "
                "alerts, result) SELECT :integration_id, :received_at, :content_type, :body, "
                ":alerts, :result WHERE EXISTS (SELECT 1 FROM integrations "
                "WHERE id = :integration_id)"),
                [{"integration_id": e.integration_id, "received_at": e.received_at,
                  "content_type": e.content_type, "body": e.body, "alerts": e.alerts,
                  "result": e.result} for e in events])
        for name, upto in marks.items():
            self.s.merge(IntakeSpool(name=name, moved_upto=upto))


class DeadLetterRepo(_Repo):
    def add(self, row: DeadLetter) -> DeadLetter:
        self.s.add(row)
        self.s.flush()
        return row

    def get(self, dl_id: int) -> DeadLetter | None:
        return self.s.get(DeadLetter, dl_id)

    def list(self, status: str | None, limit: int, offset: int) -> tuple[Sequence[DeadLetter], int]:
        q = select(DeadLetter)
        if status:
            q = q.where(DeadLetter.status == status)
        total = self.s.scalar(select(func.count()).select_from(q.subquery())) or 0
        rows = self.s.scalars(q.order_by(DeadLetter.id.desc()).limit(limit).offset(offset)).all()
        return rows, total


@dataclass(frozen=True)
class AlertFilter:
    status: str | None = None
    service_id: int | None = None
    incident_id: int | None = None
    queue: str | None = None
    suppressed: str | None = None
    limit: int = 50
    offset: int = 0


class AlertRepo(_Repo):
    def get(self, alert_id: int) -> Alert | None:
        return self.s.get(Alert, alert_id)

    def add(self, row: Alert) -> Alert:
        """Staged, not flushed: triage adds many and the ORM inserts them together at the next
        flush (the id is None until then)."""
        self.s.add(row)
        return row

    def open_by_key(self, service_id: int, dedup_key: str) -> Alert | None:
        q = select(Alert).where(Alert.service_id == service_id, Alert.dedup_key == dedup_key,
                                Alert.status != "resolved")
        return self.s.scalar(q)

    def open_by_keys(self, keys: list[str]) -> list[Alert]:
        """Open alerts with any of these dedup keys (one query for a whole triage batch)."""
        found: list[Alert] = []
        for i in range(0, len(keys), 500):
            q = select(Alert).where(Alert.dedup_key.in_(keys[i:i + 500]),
                                    Alert.status != "resolved")
            found.extend(self.s.scalars(q))
        return found

    def resolved_since_by_keys(self, keys: list[str], since: datetime) -> list[Alert]:
        """Alerts with these keys resolved since `since`, oldest resolution first."""
        found: list[Alert] = []
        for i in range(0, len(keys), 500):
            q = (select(Alert).where(Alert.dedup_key.in_(keys[i:i + 500]),
                                     Alert.status == "resolved", Alert.resolved_at >= since)
                 .order_by(Alert.resolved_at))
            found.extend(self.s.scalars(q))
        return found

    def resolved_since(self, service_id: int, dedup_key: str, since: datetime) -> Alert | None:
        q = (select(Alert).where(Alert.service_id == service_id, Alert.dedup_key == dedup_key,
                                 Alert.status == "resolved", Alert.resolved_at >= since)
             .order_by(Alert.resolved_at.desc()).limit(1))
        return self.s.scalar(q)

    def firing(self) -> list[Any]:
        """Open, unsuppressed alerts marked as matching an inhibition rule's source (the
        only ones that can mute another): rows of id, labels, service_id, severity, source,
        integration_id."""
        q = select(Alert.id, Alert.labels, Alert.service_id, Alert.severity, Alert.source,
                   Alert.integration_id).where(Alert.inhibit_source, Alert.status != "resolved",
                                               Alert.suppressed.is_(None))
        return list(self.s.execute(q))

    def open_rows(self, after_id: int, limit: int) -> list[Any]:
        """Open alerts by id (for recomputing the inhibition-source marks): rows of id,
        labels, service_id, severity, source, integration_id, inhibit_source."""
        q = (select(Alert.id, Alert.labels, Alert.service_id, Alert.severity, Alert.source,
                    Alert.integration_id, Alert.inhibit_source)
             .where(Alert.status != "resolved", Alert.id > after_id).order_by(Alert.id)
             .limit(limit))
        return list(self.s.execute(q))

    def set_inhibit_source(self, ids: list[int], value: bool) -> None:
        for i in range(0, len(ids), 500):
            self.s.execute(update(Alert).where(Alert.id.in_(ids[i:i + 500]))
                           .values(inhibit_source=value))

    def open_count_for_incident(self, incident_id: int) -> int:
        q = select(func.count()).select_from(Alert).where(Alert.incident_id == incident_id,
                                                          Alert.status != "resolved")
        return self.s.scalar(q) or 0

    def for_group(self, group_id: int) -> Sequence[Alert]:
        return self.s.scalars(select(Alert).where(Alert.group_id == group_id)).all()

    def for_incident(self, incident_id: int) -> Sequence[Alert]:
        q = select(Alert).where(Alert.incident_id == incident_id).order_by(Alert.id)
        return self.s.scalars(q).all()

    def snoozed_due(self, now: datetime, limit: int) -> Sequence[Alert]:
        q = (select(Alert).where(Alert.snoozed_until.is_not(None), Alert.snoozed_until <= now)
             .order_by(Alert.snoozed_until).limit(limit))
        return self.s.scalars(q).all()

    def _filtered(self, f: AlertFilter):  # noqa: ANN202
        q = select(Alert)
        if f.status == "open":
            q = q.where(Alert.status != "resolved")
        elif f.status:
            q = q.where(Alert.status.in_(f.status.split(",")))
        for col, value in ((Alert.service_id, f.service_id), (Alert.incident_id, f.incident_id),
                           (Alert.queue, f.queue)):
            if value:
                q = q.where(col == value)
        if f.suppressed == "any":
            q = q.where(Alert.suppressed.is_not(None))
        elif f.suppressed:
            q = q.where(Alert.suppressed == f.suppressed)
        return q

    def list(self, f: AlertFilter) -> tuple[Sequence[Alert], int]:
        q = self._filtered(f)
        total = self.s.scalar(select(func.count()).select_from(q.subquery())) or 0
        rows = self.s.scalars(q.order_by(Alert.last_seen.desc(), Alert.id.desc())
                              .limit(f.limit).offset(f.offset)).all()
        return rows, total


class GroupRepo(_Repo):
    def live(self, service_id: int, route: str, key: str) -> AlertGroup | None:
        q = select(AlertGroup).where(AlertGroup.service_id == service_id,
                                     AlertGroup.route == route, AlertGroup.group_key == key,
                                     AlertGroup.status != "closed")
        return self.s.scalar(q)

    def add(self, row: AlertGroup) -> AlertGroup:
        self.s.add(row)
        self.s.flush()
        return row

    def get(self, group_id: int) -> AlertGroup | None:
        return self.s.get(AlertGroup, group_id)

    def waiting_due(self, now: datetime, limit: int) -> Sequence[AlertGroup]:
        q = (select(AlertGroup).where(AlertGroup.status == "waiting", AlertGroup.flush_at <= now)
             .order_by(AlertGroup.flush_at).limit(limit))
        return self.s.scalars(q).all()

    def for_incident(self, incident_id: int) -> Sequence[AlertGroup]:
        return self.s.scalars(select(AlertGroup).where(AlertGroup.incident_id == incident_id,
                                                       AlertGroup.status != "closed")).all()


class SilenceRepo(_Repo):
    def active_or_pending(self, now: datetime) -> Sequence[SilenceRow]:
        return self.s.scalars(select(SilenceRow).where(SilenceRow.ends_at > now)
                              .order_by(SilenceRow.id)).all()

    def list(self, include_expired: bool, now: datetime) -> Sequence[SilenceRow]:
        q = select(SilenceRow).order_by(SilenceRow.id.desc())
        if not include_expired:
            q = q.where(or_(SilenceRow.ends_at > now))
        return self.s.scalars(q.limit(500)).all()

    def get(self, silence_id: int) -> SilenceRow | None:
        return self.s.get(SilenceRow, silence_id)

    def add(self, row: SilenceRow) -> SilenceRow:
        self.s.add(row)
        self.s.flush()
        return row


def try_processor_lock(session: Any, lock_id: int) -> bool:
    """PostgreSQL: one engine at a time runs a processor (transaction-scoped advisory lock).
    Elsewhere writers are already serialised, so the answer is always yes."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(session.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": lock_id})
                .scalar())


def write_intake_events(engine: Engine, lock: SqliteWriteLock | None,
                  rows: list[dict[str, Any]]) -> None:
    """Many requests' events in one transaction: no ORM, no session (the intake hot path)."""
    if lock:
        lock.acquire()
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                _copy_events(conn, rows)
            else:
                conn.execute(insert(IntakeEvent.__table__), rows)
    finally:
        if lock:
            lock.release()


_COPY = ("COPY intake_events (integration_id, received_at, content_type, body, alerts, result) "
         "FROM STDIN (FORMAT BINARY)")
_COPY_TYPES = ["int4", "timestamptz", "text", "bytea", "json", "json"]


class PgEventWriter:
    """The intake hot path's writer on PostgreSQL: a connection of its own (taken from the
    engine, so set up like the others, and detached from its pool), in autocommit, where one
    COPY is one transaction: COPY's own two round trips per group, where a pooled connection
    added three (the pool's ping, BEGIN, COMMIT). Used from one writer thread at a time; a
    broken connection is replaced on the next write."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._con: psycopg.Connection | None = None

    def write(self, rows: list[dict[str, Any]]) -> None:
        con = self._con
        if con is None or con.closed or con.broken:
            raw = self._engine.raw_connection()
            con = self._con = raw.driver_connection
            raw.detach()   # ours for good: the pool neither resets nor reuses it
            con.autocommit = True
        try:
            _copy_rows(con.cursor(), rows)
        except BaseException:
            if con.broken:
                con.close()
            raise


def _copy_events(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL: COPY in binary, one stream for the whole batch (measured against
    executemany, which sends one Bind/Execute per row, and an unnest of arrays)."""
    _copy_rows(conn.connection.driver_connection.cursor(), rows)


def _copy_rows(cur: Any, rows: list[dict[str, Any]]) -> None:
    with cur.copy(_COPY) as copy:
        copy.set_types(_COPY_TYPES)
        for r in rows:
            result = r.get("result")
            copy.write_row((r["integration_id"], r["received_at"], r["content_type"], r["body"],
                            Json(r["alerts"], json_text),
                            None if result is None else Json(result, json_text)))

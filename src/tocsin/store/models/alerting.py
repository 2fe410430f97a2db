"""Alert intake and triage: integrations, accepted events, dead letters, alerts, groups,
silences."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, JSONTextType, JSONType, UTCDateTime


class Integration(Base):
    """An inbound source for one service: its type, secret key and parser options."""

    __tablename__ = "integrations"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(30))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"),
                                            index=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    options: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IntakeEvent(Base):
    """One accepted request: its raw body and the alerts parsed from it. Written by the
    intake hot path before the sender gets its 2xx (on SQLite first to the worker's spool,
    moved here by the engine: store/spool.py), triaged by the engine."""

    __tablename__ = "intake_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(ForeignKey("integrations.id",
                                                           ondelete="CASCADE"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    content_type: Mapped[str] = mapped_column(String(100))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    alerts: Mapped[list[Any]] = mapped_column(JSONTextType)   # normalized InboundAlert dicts
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONTextType)

    __table_args__ = (
        Index("ix_intake_pending", "id", postgresql_where=text("processed_at IS NULL"),
              sqlite_where=text("processed_at IS NULL")),
    )


class IntakeSpool(Base):
    """How far the engine has moved each SQLite intake spool into `intake_events` (see
    store/spool.py): committed with the moved events, so a crash before the spool forgets
    them cannot move them twice."""

    __tablename__ = "intake_spools"
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    moved_upto: Mapped[int] = mapped_column(Integer)


class DeadLetter(Base):
    """A payload that could not be parsed, kept with the reason for inspection and replay."""

    __tablename__ = "dead_letters"
    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int | None] = mapped_column(
        ForeignKey("integrations.id", ondelete="SET NULL"), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(Text)
    path: Mapped[str] = mapped_column(String(200), default="")
    content_type: Mapped[str] = mapped_column(String(100))
    headers: Mapped[dict[str, Any]] = mapped_column(JSONType)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(20), default="new")  # new|replayed|discarded
    replayed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    replay_event_id: Mapped[int | None] = mapped_column(Integer)
    attempts: Mapped[list[Any]] = mapped_column(JSONType, default=list)


class Alert(Base):
    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    integration_id: Mapped[int | None] = mapped_column(
        ForeignKey("integrations.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(30))
    dedup_key: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(20), index=True)  # open|acknowledged|resolved
    severity: Mapped[str | None] = mapped_column(String(10))
    source_severity: Mapped[str | None] = mapped_column(String(50))
    summary: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    labels: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    annotations: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    links: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    count: Mapped[int] = mapped_column(Integer, default=1)
    last_event_id: Mapped[int | None] = mapped_column(Integer)
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), index=True)
    group_id: Mapped[int | None] = mapped_column(Integer, index=True)
    route: Mapped[str | None] = mapped_column(String(100))
    queue: Mapped[str | None] = mapped_column(String(100), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # why nothing happened for it: silenced | inhibited | snoozed | unrouted | None
    suppressed: Mapped[str | None] = mapped_column(String(20))
    # its labels match some inhibition rule's source: triage reads only these as sources
    inhibit_source: Mapped[bool] = mapped_column(Boolean, default=False,
                                                 server_default=false())
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    decisions: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (
        # One open alert per (service, dedup key): concurrent triggers cannot make two.
        Index("uq_alert_open_dedup", "service_id", "dedup_key", unique=True,
              postgresql_where=text("status <> 'resolved'"),
              sqlite_where=text("status <> 'resolved'")),
        Index("ix_alert_resolved_key", "service_id", "dedup_key", "resolved_at"),
        # triage looks a whole batch's keys up at once, across services
        Index("ix_alert_dedup_key", "dedup_key"),
        Index("ix_alert_last_seen", "last_seen"),
        Index("ix_alert_inhibit_source", "id",
              postgresql_where=text("inhibit_source AND status <> 'resolved'"),
              sqlite_where=text("inhibit_source AND status <> 'resolved'")),
    )


class AlertGroup(Base):
    """Alerts that share a route and group labels: one outage, one incident."""

    __tablename__ = "alert_groups"
    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    route: Mapped[str] = mapped_column(String(100))
    group_key: Mapped[str] = mapped_column(String(500))
    labels: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(20))  # waiting|open|closed
    severity: Mapped[str] = mapped_column(String(4))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    flush_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), index=True)
    actions: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    __table_args__ = (
        Index("uq_group_live", "service_id", "route", "group_key", unique=True,
              postgresql_where=text("status <> 'closed'"), sqlite_where=text("status <> 'closed'")),
    )


class SilenceRow(Base):
    __tablename__ = "silences"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="silence")  # silence|maintenance
    matchers: Mapped[list[Any]] = mapped_column(JSONType)   # matcher strings
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    created_by: Mapped[str] = mapped_column(String(200))
    comment: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IntegrationNotice(Base):
    """Something a sender asked that is not an alert (e.g. an SNS subscription to confirm)."""

    __tablename__ = "integration_notices"
    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(ForeignKey("integrations.id", ondelete="CASCADE"),
                                                index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(60))
    message: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

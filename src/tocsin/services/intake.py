"""Alert intake: parse a sender's payload, store accepted events (the hot path writes them
in batches), keep what cannot be parsed as dead letters, and replay those."""

from __future__ import annotations

import functools
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine

from ..domain.alert import ParseError, ParseOutcome
from ..domain.auth import Actor
from ..domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from ..integrations.inbound import DESCRIPTIONS, PARSERS, cloudwatch
from ..integrations.inbound import sns_signature as sns
from ..integrations.outbound.sns_certs import CertFetcher, CertUnavailable
from ..store.alerting_repos import PgEventWriter, write_intake_events
from ..store.db import SqliteWriteLock
from ..store.models import DeadLetter, IntakeEvent
from ..store.spool import SpoolWriter
from ..store.uow import UnitOfWork
from .common import actor_label

JSON_TYPES = ("application/json", "text/json")
# AWS SNS posts JSON as text/plain; only the CloudWatch integration accepts that.
TEXT_JSON_TYPES = {"cloudwatch": ("text/plain",)}
# Integration types whose messages come through AWS SNS, which signs them.
SNS_TYPES = frozenset({"cloudwatch"})


@dataclass(frozen=True)
class IntegrationInfo:
    id: int
    name: str
    type: str
    service_id: int
    options: dict[str, Any]
    enabled: bool


class Rejected(Exception):
    """A request the hot path refuses: status, reason, and whether to keep it."""

    def __init__(self, status: int, reason: str, path: str = "", keep: bool = True) -> None:
        super().__init__(reason)
        self.status, self.reason, self.path, self.keep = status, reason, path, keep


def lookup(uow: UnitOfWork, key: str) -> IntegrationInfo | None:
    with uow:
        row = uow.integrations.by_key(key)
        if row is None:
            return None
        return IntegrationInfo(row.id, row.name, row.type, row.service_id, dict(row.options),
                               row.enabled)


def check_content_type(info: IntegrationInfo, content_type: str) -> None:
    base = content_type.split(";")[0].strip().lower()
    ok = base in JSON_TYPES or base.endswith("+json") or base in TEXT_JSON_TYPES.get(info.type, ())
    if not ok:
        raise Rejected(415, f"content type {base or '(none)'!r} is not accepted; send "
                            "application/json")


def parse(info: IntegrationInfo, body: bytes, headers: dict[str, str],
          sns_certs: CertFetcher | None = None) -> ParseOutcome:
    """Decode and parse a body with the integration's parser; Rejected(4xx) if it cannot.
    With `sns_certs`, an SNS integration's body must also be signed by AWS (this may fetch a
    certificate: call it off the event loop)."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Rejected(400, f"body is not valid JSON: {exc}") from exc
    try:
        outcome = PARSERS[info.type](data, headers, info.options)
    except ParseError as exc:
        raise Rejected(422, f"not a valid {info.type} payload: {exc.reason}", exc.path) from exc
    if not outcome.alerts and not outcome.notices:
        raise Rejected(422, f"the {info.type} payload holds no alert")
    if sns_certs is not None and info.type in SNS_TYPES:
        verify_sns(data, sns_certs)
    return outcome


def verify_sns(data: Any, certs: CertFetcher) -> None:
    """Every SNS message in the body must carry a signature that verifies with the certificate
    SNS names: Rejected 400 (untrusted certificate URL, malformed), 403 (unsigned, forged) or
    503 (the certificate cannot be fetched just now; SNS retries)."""
    messages = cloudwatch.sns_messages(data)
    if not messages:
        raise Rejected(403, "SNS raw message delivery carries no signature to verify: turn raw "
                            "delivery off on the subscription, or set "
                            "TOCSIN_SNS_VERIFY_SIGNATURES=false")
    for message, path in messages:
        try:
            url = sns.cert_url(message, path)
            try:
                pem = certs(url)
            except CertUnavailable as exc:
                raise Rejected(503, f"the SNS signing certificate {url[:200]} could not be "
                                    f"fetched ({exc}); send it again", path) from exc
            sns.verify(message, pem, path)
        except sns.SignatureProblem as exc:
            status = 400 if exc.kind == "invalid" else 403
            raise Rejected(status, exc.reason, exc.path) from exc


def to_rows(outcome: ParseOutcome) -> list[dict[str, Any]]:
    """Alerts as JSON-ready dicts; a trigger without a dedup key gets a fresh one
    (PagerDuty's rule: each such trigger is a new alert)."""
    rows = []
    for a in outcome.alerts:  # field by field: dataclasses.asdict deep-copies, far slower
        rows.append({
            "source": a.source, "action": a.action, "dedup_key": a.dedup_key or uuid.uuid4().hex,
            "summary": a.summary, "severity": a.severity, "source_severity": a.source_severity,
            "description": a.description, "labels": dict(a.labels),
            "annotations": dict(a.annotations), "links": dict(a.links), "service": a.service,
            "starts_at": a.starts_at.isoformat() if a.starts_at else None,
            "ends_at": a.ends_at.isoformat() if a.ends_at else None})
    return rows


def event_row(info: IntegrationInfo, now: datetime, content_type: str, body: bytes,
              alerts: list[dict[str, Any]]) -> dict[str, Any]:
    return {"integration_id": info.id, "received_at": now, "content_type": content_type[:100],
            "body": body, "alerts": alerts}


def insert_events(engine: Engine, lock: SqliteWriteLock | None,
                  rows: list[dict[str, Any]]) -> None:
    """Many requests' events in one transaction of the main database."""
    write_intake_events(engine, lock, rows)


def event_writer(engine: Engine, lock: SqliteWriteLock | None,
                 spools: Path | None) -> Callable[[list[dict[str, Any]]], None]:
    """How the hot path stores a group of events, durably, in one transaction: on SQLite in
    this process's spool (never waiting for the main database's one writer; the engine moves
    them on), on PostgreSQL straight into intake_events."""
    if spools is not None:
        return SpoolWriter(spools).write
    if engine.dialect.name == "postgresql":
        return PgEventWriter(engine).write
    return functools.partial(insert_events, engine, lock)


def keep_dead_letter(uow: UnitOfWork, integration_id: int | None, reason: str, path: str,
                     content_type: str, headers: dict[str, str], body: bytes) -> int:
    with uow:
        row = uow.dead_letters.add(DeadLetter(
            integration_id=integration_id, received_at=uow.clock.now(), reason=reason[:2000],
            path=path[:200], content_type=content_type[:100], headers=headers, body=body,
            status="new", attempts=[]))
        uow.commit()
        return row.id


def replay(uow: UnitOfWork, actor: Actor, dl_id: int) -> dict[str, Any]:
    """Parse a dead letter again with the integration's current settings; when it parses,
    it becomes an accepted event like any other."""
    actor.require("incidents:write")
    with uow:
        dl = uow.dead_letters.get(dl_id)
        if dl is None:
            raise NotFound(f"no dead letter {dl_id}")
        if dl.status == "replayed":
            raise Conflict(f"dead letter {dl_id} was replayed already (event "
                           f"{dl.replay_event_id})")
        integ = uow.integrations.get(dl.integration_id) if dl.integration_id else None
        if integ is None:
            raise Conflict("its integration no longer exists; nothing to replay it into")
        info = IntegrationInfo(integ.id, integ.name, integ.type, integ.service_id,
                               dict(integ.options), integ.enabled)
        now = uow.clock.now()
        try:
            rows = to_rows(parse(info, dl.body, dict(dl.headers)))
        except Rejected as exc:
            dl.attempts = [*dl.attempts, {"at": now.isoformat(), "reason": exc.reason}]
            uow.commit()
            raise ValidationFailed([FieldError(exc.path or "body", exc.reason)],
                                   "still cannot be parsed") from exc
        event = uow.intake.add(IntakeEvent(**event_row(info, now, dl.content_type, dl.body, rows)))
        dl.status, dl.replayed_at, dl.replay_event_id = "replayed", now, event.id
        uow.record(actor_label(actor), "dead_letter.replay", f"dead_letter:{dl.id}",
                   {"event_id": event.id, "alerts": len(rows)})
        uow.commit()
        return {"dead_letter_id": dl.id, "event_id": event.id, "alerts": len(rows)}


def new_key() -> str:
    return secrets.token_hex(16)


def describe_types() -> dict[str, str]:
    return dict(DESCRIPTIONS)


@dataclass(frozen=True)
class DeadLetterView:
    id: int
    integration_id: int | None
    integration: str | None
    received_at: datetime
    reason: str
    path: str
    content_type: str
    headers: dict[str, Any]
    body: str
    status: str
    replayed_at: datetime | None
    replay_event_id: int | None
    attempts: list[Any]


def _dl_view(uow: UnitOfWork, d: DeadLetter) -> DeadLetterView:
    integ = uow.integrations.get(d.integration_id) if d.integration_id else None
    return DeadLetterView(d.id, d.integration_id, integ.name if integ else None, d.received_at,
                          d.reason, d.path, d.content_type, dict(d.headers),
                          d.body.decode("utf-8", "replace"), d.status, d.replayed_at,
                          d.replay_event_id, list(d.attempts or []))


def list_dead_letters(uow: UnitOfWork, status: str | None, limit: int = 50,
                      offset: int = 0) -> tuple[list[DeadLetterView], int]:
    with uow:
        rows, total = uow.dead_letters.list(status, limit, offset)
        return [_dl_view(uow, d) for d in rows], total


def get_dead_letter(uow: UnitOfWork, dl_id: int) -> DeadLetterView:
    with uow:
        d = uow.dead_letters.get(dl_id)
        if d is None:
            raise NotFound(f"no dead letter {dl_id}")
        return _dl_view(uow, d)

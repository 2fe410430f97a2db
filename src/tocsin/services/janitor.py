"""Housekeeping: drop what nobody needs any more, in small batches."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, or_, select

from ..store.models import Alert, IntakeEvent, WebSession
from ..store.uow import UnitOfWork


def sweep(uow: UnitOfWork, retention_days: int, batch: int = 1000) -> int:
    """Processed intake events older than the retention that no alert points to (their raw
    bodies are big), and sessions that ended more than a day ago."""
    with uow:
        now = uow.clock.now()
        s = uow.session
        referenced = select(Alert.last_event_id).where(Alert.last_event_id.is_not(None))
        old = (select(IntakeEvent.id)
               .where(IntakeEvent.processed_at < now - timedelta(days=retention_days),
                      IntakeEvent.id.not_in(referenced)).limit(batch))
        ids = list(s.scalars(old))
        if ids:
            s.execute(delete(IntakeEvent).where(IntakeEvent.id.in_(ids)))
        ended = delete(WebSession).where(or_(
            WebSession.expires_at < now - timedelta(days=1),
            WebSession.revoked_at < now - timedelta(days=1)))
        gone = s.execute(ended).rowcount or 0
        if ids or gone:
            uow.commit()
        return len(ids) + gone

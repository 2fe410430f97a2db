"""SQLite runs one engine at a time: it holds a lease row and renews it every cycle; any
other engine waits until the lease runs out (its holder stopped renewing: it died)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ..store.models import EngineLease
from ..store.uow import UnitOfWork

NAME = "engine"
TTL = timedelta(seconds=30)


@dataclass(frozen=True)
class Lease:
    held: bool
    holder: str
    expires_at: datetime


def acquire(uow: UnitOfWork, holder: str) -> Lease:
    """Take or renew the lease for `holder`; or say who holds it and until when."""
    with uow:
        now = uow.clock.now()
        row = uow.session.get(EngineLease, NAME)
        if row is not None and row.holder != holder and row.expires_at > now:
            return Lease(False, row.holder, row.expires_at)
        if row is None:
            row = EngineLease(name=NAME, holder=holder, expires_at=now + TTL)
            uow.session.add(row)
        row.holder, row.expires_at = holder, now + TTL
        uow.commit()
        return Lease(True, holder, row.expires_at)


def release(uow: UnitOfWork, holder: str) -> None:
    """On a clean stop: the next engine need not wait for the lease to run out."""
    with uow:
        row = uow.session.get(EngineLease, NAME)
        if row is not None and row.holder == holder:
            uow.session.delete(row)
            uow.commit()

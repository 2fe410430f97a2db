"""The engine's `spool` processor (SQLite): move events the web workers spooled
(store/spool.py) into `intake_events`, oldest first, where triage takes them."""

from __future__ import annotations

import time
from collections.abc import Callable

from ..store.spool import SpoolReader
from ..store.uow import UnitOfWork

BATCH = 2000
TIDY_SECONDS = 5.0   # finished spools are deleted at least this often under a steady load


def move(uow: Callable[..., UnitOfWork], reader: SpoolReader, limit: int = BATCH) -> int:
    """Move up to `limit` spooled events in one transaction of the main database, with how
    far each spool has been moved. Returns how many were moved."""
    with reader.lock:   # engines of one process share the reader
        if not reader.names():
            return 0
        until = time.time()   # taken before reading: see store/spool.py on order
        with uow(read_only=True) as ro:
            marks = ro.intake.spool_marks()
        events = reader.pending(marks, until, limit)
        if events:
            with uow() as w:
                # Under the write lock, again: another engine may have moved some meanwhile.
                marks = w.intake.spool_marks()
                events = [e for e in events if e.id > marks.get(e.spool, 0)]
                moved: dict[str, int] = {}
                for e in events:
                    moved[e.spool] = max(moved.get(e.spool, 0), e.id)
                w.intake.move_spooled(events, moved)
                w.commit()
                marks.update(moved)
        if not events or time.monotonic() - reader.tidied_at >= TIDY_SECONDS:
            _tidy(reader, marks)
        return len(events)


def _tidy(reader: SpoolReader, marks: dict[str, int]) -> None:
    """Delete finished spools that are moved whole. Their marks stay (one small row per
    50,000 events): a slower mover that still holds an old read of a deleted spool then
    finds its events moved, rather than no mark at all."""
    reader.tidied_at = time.monotonic()
    for name in reader.names():
        reader.retire(name, marks.get(name, 0))


def inflow(uow: Callable[..., UnitOfWork], reader: SpoolReader) -> tuple[int, float | None]:
    """(about how many events are spooled and not moved yet, when the newest arrived)."""
    with reader.lock:
        with uow(read_only=True) as ro:
            marks = ro.intake.spool_marks()
        return reader.inflow(marks)

"""The engine's `spool` processor (SQLite): move events the web workers spooled
(store/spool.py) into `intake_events`, oldest first, where triage takes them."""

from __future__ import annotations

import time
from collections.abc import Callable

from ..store.spool import SpoolReader
from ..store.uow import UnitOfWork

BATCH = 2000


def move(uow: Callable[..., UnitOfWork], reader: SpoolReader, limit: int = BATCH) -> int:
    """Move up to `limit` spooled events in one transaction of the main database, with how
    far each spool has been moved; then delete them from their spools. Returns how many."""
    with reader.lock:   # engines of one process share the reader
        until = time.time()   # taken before reading: see store/spool.py on order
        with uow(read_only=True) as ro:
            marks = ro.intake.spool_marks()
        events = reader.pending(marks, until, limit)
        if not events:
            _tidy(uow, reader, marks)
            return 0
        with uow() as w:
            # Under the write lock, again: another engine may have moved some meanwhile.
            marks = w.intake.spool_marks()
            events = [e for e in events if e.id > marks.get(e.spool, 0)]
            moved: dict[str, int] = {}
            for e in events:
                moved[e.spool] = max(moved.get(e.spool, 0), e.id)
            w.intake.move_spooled(events, moved)
            w.commit()
        for name, upto in moved.items():
            reader.forget(name, upto)
        return len(events)


def _tidy(uow: Callable[..., UnitOfWork], reader: SpoolReader, marks: dict[str, int]) -> None:
    """When idle: forget what an earlier run moved but did not delete (it stopped between
    the two), and delete the spools of processes that are gone once they are empty."""
    retired = []
    for name in reader.names():
        if name in marks:
            reader.forget(name, marks[name])
        if reader.retire(name):
            retired.append(name)
    if retired:
        with uow() as w:
            for name in retired:
                w.intake.forget_spool(name)
            w.commit()

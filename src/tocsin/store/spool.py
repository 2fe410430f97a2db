"""Intake spools (SQLite only): each process that takes alerts appends the events it accepts
to a small SQLite file of its own, so that a sender's 2xx never waits for the main
database's single writer (triage, escalations, the UI). The engine moves spooled events
into `intake_events` (services/spool.py) and deletes them from the spool afterwards.

A spool is `<database>.inbox/<pid>-<random>.db`; its writer holds an exclusive flock on
`<same name>.owner` while it writes to it, so the mover can tell a spool still being written
from one that is finished. The engine never writes to a spool (its writes would make the
web worker wait for a process that runs at a lower priority): it records "moved up to id N"
in the main database, and deletes a spool whole once it is finished and moved. A writer
finishes its spool when its process ends or after ROTATE_ROWS rows / ROTATE_BYTES bytes,
and starts a new one. Names are never reused, so a mark can never match a newer file.

Order: every row carries `arrived`, the wall-clock time its batch was written, taken just
before the write. The mover takes a time T first and then moves only rows with arrived <= T,
merged across spools by (arrived, spool, id). A sender that waits for its 2xx before sending
the next event (every real one does) thus sees its events moved in the order it sent them:
if the later one arrived by T, the earlier was committed before that, so the mover sees it too.
"""

from __future__ import annotations

import fcntl
import heapq
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .db import dumps

SCHEMA_VERSION = 1
_SCHEMA = """CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    arrived REAL NOT NULL,
    integration_id INTEGER NOT NULL,
    received_at TEXT NOT NULL,
    content_type TEXT NOT NULL,
    body BLOB NOT NULL,
    alerts TEXT NOT NULL,
    result TEXT)"""
_COLUMNS = "arrived, integration_id, received_at, content_type, body, alerts, result"
# Rows per INSERT statement: 7 parameters each, well under SQLite's 32766 per statement.
_ROWS_PER_STATEMENT = 1000
# A writer starts a new spool after this much, so that moved events do not pile up on disk.
ROTATE_ROWS = 50_000
ROTATE_BYTES = 64 * 1024 * 1024
SUFFIX = ".db"
OWNER_SUFFIX = ".owner"


def spool_dir(db_path: str) -> Path:
    return Path(f"{db_path}.inbox")


def stored_time(value: datetime) -> str:
    """A time as SQLAlchemy stores a UTC DateTime in SQLite (UTCDateTime, zone dropped)."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _connect(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    con.execute("PRAGMA journal_mode=WAL")
    # FULL: an event is on disk (fsync) before the sender hears "accepted".
    con.execute("PRAGMA synchronous=FULL")
    return con


class SpoolWriter:
    """The spool of this process, opened on the first write (a worker process opens its
    own; a forked child opens a new one). Used from one writer thread at a time."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._pid = 0
        self._con: sqlite3.Connection | None = None
        self._owner_fd: int | None = None
        self.name = ""
        self._rows = self._bytes = 0

    def _open(self) -> sqlite3.Connection:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{os.getpid()}-{secrets.token_hex(6)}"
        fd = os.open(self.directory / f"{name}{OWNER_SUFFIX}", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)   # released by the kernel when this process ends
        con = _connect(self.directory / f"{name}{SUFFIX}")
        # No checkpoints while writing: the engine reads the spool all the time, and a
        # checkpoint cannot finish under a reader, so each commit would try again (copying
        # pages and syncing the file). The spool is finished and deleted whole instead.
        con.execute("PRAGMA wal_autocheckpoint=0")
        con.execute(_SCHEMA)
        con.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        self._con, self._owner_fd, self._pid, self.name = con, fd, os.getpid(), name
        self._rows = self._bytes = 0
        return con

    def write(self, rows: list[dict[str, Any]]) -> None:
        """Store event rows (services.intake.event_row) durably, in one transaction."""
        con = self._con if self._pid == os.getpid() and self._con else self._open()
        arrived = time.time()
        size = 0
        chunks = [rows[i:i + _ROWS_PER_STATEMENT]
                  for i in range(0, len(rows), _ROWS_PER_STATEMENT)]
        if len(chunks) > 1:
            con.execute("BEGIN IMMEDIATE")
        try:
            for chunk in chunks:
                values: list[Any] = []
                for r in chunk:
                    result, alerts = r.get("result"), dumps(r["alerts"])
                    size += len(r["body"]) + len(alerts)
                    values += (arrived, r["integration_id"], stored_time(r["received_at"]),
                               r["content_type"], r["body"], alerts,
                               None if result is None else dumps(result))
                # One statement is one transaction and one fsync (and one return to Python:
                # the writer thread needs the interpreter lock back only once).
                con.execute(f"INSERT INTO events ({_COLUMNS}) VALUES "
                            + ",".join(["(?,?,?,?,?,?,?)"] * len(chunk)), values)
            if len(chunks) > 1:
                con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
        self._rows += len(rows)
        self._bytes += size
        if self._rows >= ROTATE_ROWS or self._bytes >= ROTATE_BYTES:
            self.close()   # finished: the mover deletes it once moved; the next write opens one

    def close(self) -> None:
        if self._con is not None and self._pid == os.getpid():
            self._con.close()
            if self._owner_fd is not None:
                os.close(self._owner_fd)
        self._con, self._owner_fd = None, None


@dataclass(frozen=True)
class SpooledEvent:
    spool: str
    id: int
    arrived: float
    integration_id: int
    received_at: str
    content_type: str
    body: bytes
    alerts: str
    result: str | None


class SpoolReader:
    """The engine's side: every spool in the directory, merged in arrival order."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._cons: dict[str, sqlite3.Connection] = {}
        self.lock = threading.Lock()
        self.tidied_at = 0.0   # time.monotonic() of the last look for finished spools

    def names(self) -> list[str]:
        if not self.directory.is_dir():
            return []
        return sorted(p.name[:-len(SUFFIX)] for p in self.directory.glob(f"*{SUFFIX}"))

    def _con(self, name: str) -> sqlite3.Connection:
        con = self._cons.get(name)
        if con is None:
            con = self._cons[name] = _connect(self.directory / f"{name}{SUFFIX}")
            con.execute(_SCHEMA)   # a spool whose writer died before creating its table
        return con

    def pending(self, after: dict[str, int], until: float, limit: int) -> list[SpooledEvent]:
        """The first `limit` events that arrived by `until`, over all spools, in arrival
        order; in each spool only ids above `after[spool]` (those moved already are skipped)."""
        streams = [self._rows(name, after.get(name, 0), until, limit) for name in self.names()]
        merged = heapq.merge(*streams, key=lambda e: (e.arrived, e.spool, e.id))
        return [e for _, e in zip(range(limit), merged, strict=False)]

    def _rows(self, name: str, after: int, until: float, limit: int) -> Iterable[SpooledEvent]:
        rows = self._con(name).execute(
            f"SELECT id, {_COLUMNS} FROM events WHERE id > ? AND arrived <= ? ORDER BY id "
            "LIMIT ?", (after, until, limit)).fetchall()
        return [SpooledEvent(name, *row) for row in rows]

    def retire(self, name: str, moved_upto: int) -> bool:
        """Delete a spool that is finished (its writer let go of it) and moved whole (no id
        above `moved_upto`): True if deleted."""
        owner = self.directory / f"{name}{OWNER_SUFFIX}"
        try:
            fd = os.open(owner, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            return False
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False   # still being written
            if self._con(name).execute("SELECT 1 FROM events WHERE id > ? LIMIT 1",
                                       (moved_upto,)).fetchone():
                return False
            self._cons.pop(name).close()
            for suffix in (SUFFIX, f"{SUFFIX}-wal", f"{SUFFIX}-shm"):
                (self.directory / f"{name}{suffix}").unlink(missing_ok=True)
            owner.unlink(missing_ok=True)
            return True
        finally:
            os.close(fd)

    def inflow(self, marks: dict[str, int]) -> tuple[int, float | None]:
        """(events spooled and not moved yet, when the newest spooled event arrived), both
        cheap: ids in a spool have no gaps, so the backlog is its last id minus its mark."""
        waiting, newest = 0, None
        for name in self.names():
            row = self._con(name).execute(
                "SELECT id, arrived FROM events ORDER BY id DESC LIMIT 1").fetchone()
            if row:
                waiting += max(0, row[0] - marks.get(name, 0))
                newest = row[1] if newest is None else max(newest, row[1])
        return waiting, newest

    def count(self, marks: dict[str, int]) -> int:
        """Events spooled and not moved yet."""
        return sum(self._con(n).execute("SELECT count(*) FROM events WHERE id > ?",
                                        (marks.get(n, 0),)).fetchone()[0]
                   for n in self.names())

    def close(self) -> None:
        for con in self._cons.values():
            con.close()
        self._cons.clear()

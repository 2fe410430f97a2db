"""Intake spools (SQLite only): each process that takes alerts appends the events it accepts
to a small SQLite file of its own, so that a sender's 2xx never waits for the main
database's single writer (triage, escalations, the UI). The engine moves spooled events
into `intake_events` (services/intake_spool.py) and deletes a spool whole once it is
finished and moved.

A spool is `<database>.inbox/<pid>-<random>.db`; its writer holds an exclusive flock on
`<same name>.owner` while it writes to it, so the mover can tell a spool still being written
from one that is finished. The engine never writes to a spool (its writes would make the
web worker wait for a process that runs at a lower priority): it records "moved up to id N"
in the main database, and deletes a spool whole once it is finished and moved. A writer
finishes its spool when its process ends or after ROTATE_ROWS rows / ROTATE_BYTES bytes,
and starts a new one. Names are never reused, so a mark can never match a newer file.

Order: every row carries `arrived`, the wall-clock time its batch was written, taken just
before the write (never going backwards within a spool). The mover takes a time T first and
then moves, from each spool, rows in id order up to the first with arrived > T, merged across
spools by (arrived, spool, id). A sender that waits for its 2xx before sending
the next event (every real one does) thus sees its events moved in the order it sent them:
if the later one arrived by T, the earlier was committed before that, so the mover sees it too.
"""

from __future__ import annotations

import fcntl
import heapq
import itertools
import logging
import os
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .db import dumps

log = logging.getLogger("tocsin.spool")

SCHEMA_VERSION = 1
# `id` is the rowid, without AUTOINCREMENT (which costs a write of sqlite_sequence's page on
# every commit): rows are never deleted from a spool, so ids still only grow, without gaps.
# (Spools written before this had AUTOINCREMENT; they read the same.)
_SCHEMA = """CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
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
# A move takes about this much at most (bodies and alerts), so that its memory and the time
# it holds the main database's write lock stay bounded whatever the bodies weigh.
MOVE_BYTES = 16 * 1024 * 1024
SUFFIX = ".db"
OWNER_SUFFIX = ".owner"


def spool_dir(db_path: str) -> Path:
    return Path(f"{db_path}.inbox")


def stored_time(value: datetime) -> str:
    """A time as SQLAlchemy stores a UTC DateTime in SQLite (UTCDateTime, zone dropped)."""
    if value.tzinfo is not UTC:   # the clock's times are UTC already (the usual case)
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:-6]   # without "+00:00"


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
        self._last = 0.0   # `arrived` of the last write: never goes backwards in a spool

    def _open(self) -> sqlite3.Connection:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{os.getpid()}-{secrets.token_hex(6)}"
        fd = os.open(self.directory / f"{name}{OWNER_SUFFIX}", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)   # released by the kernel when this process ends
            con = _connect(self.directory / f"{name}{SUFFIX}")
            # No checkpoints while writing: the engine reads the spool all the time, and a
            # checkpoint cannot finish under a reader, so each commit would try again
            # (copying pages and syncing the file). The spool is deleted whole instead.
            con.execute("PRAGMA wal_autocheckpoint=0")
            con.execute(_SCHEMA)
            con.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except BaseException:
            os.close(fd)
            raise
        self._con, self._owner_fd, self._pid, self.name = con, fd, os.getpid(), name
        self._rows = self._bytes = 0
        return con

    def write(self, rows: list[dict[str, Any]]) -> None:
        """Store event rows (services.intake.event_row) durably, in one transaction."""
        con = self._con if self._pid == os.getpid() and self._con else self._open()
        arrived = self._last = max(time.time(), self._last)   # even if the clock steps back
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
    """The engine's side: every spool in the directory, merged in arrival order. It opens
    spools read-only (it never writes to one, and closing a read-only connection never
    copies the write-ahead log into a file about to be deleted). A spool it cannot read
    (damaged, another schema version) is logged and skipped, never blocking the others."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._cons: dict[str, sqlite3.Connection] = {}
        self._bad: set[str] = set()
        self.lock = threading.Lock()
        self.tidied_at = 0.0   # time.monotonic() of the last look for finished spools

    def names(self) -> list[str]:
        """The spools there are now (connections to vanished ones are closed)."""
        found = sorted(p.name[:-len(SUFFIX)] for p in self.directory.glob(f"*{SUFFIX}")) \
            if self.directory.is_dir() else []
        for gone in set(self._cons) - set(found):
            self._cons.pop(gone).close()
        return [n for n in found if n not in self._bad]

    def _con(self, name: str) -> sqlite3.Connection | None:
        """A read-only connection to a spool, or None while it has no table yet (its writer
        is creating it) or when it cannot be read (logged once, then skipped)."""
        con = self._cons.get(name)
        if con is not None:
            return con
        try:
            con = sqlite3.connect(f"file:{self.directory / (name + SUFFIX)}?mode=ro", uri=True,
                                  check_same_thread=False, timeout=30)
            version = con.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                con.close()
                return None    # not set up yet
            if version != SCHEMA_VERSION:
                raise sqlite3.DatabaseError(f"spool schema version {version}, this Tocsin "
                                            f"reads {SCHEMA_VERSION}")
        except sqlite3.Error as exc:
            self._skip(name, exc)
            return None
        self._cons[name] = con
        return con

    def _skip(self, name: str, exc: Exception) -> None:
        log.error("intake spool %s cannot be read (%s): skipped; its events stay in %s "
                  "until it is repaired", name, exc, self.directory / (name + SUFFIX))
        self._bad.add(name)
        con = self._cons.pop(name, None)
        if con is not None:
            con.close()

    def _query(self, name: str, sql: str, params: tuple = ()) -> list[tuple]:
        con = self._con(name)
        if con is None:
            return []
        try:
            return con.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            self._skip(name, exc)
            return []

    def pending(self, after: dict[str, int], until: float, limit: int,
                max_bytes: int | None = None) -> list[SpooledEvent]:
        """The first events that arrived by `until`, over all spools, in arrival order: up
        to `limit` of them and about `max_bytes` (at least one); in each spool only ids
        above `after[spool]` (those moved already), and only up to its first event that
        arrived after `until`. Sizes are read first, bodies only for what is taken."""
        heads = []
        for name in self.names():
            rows = self._query(name, "SELECT id, arrived, length(body) + length(alerts) "
                                     "FROM events WHERE id > ? ORDER BY id LIMIT ?",
                               (after.get(name, 0), limit))
            heads.append([(arrived, name, id_, size) for id_, arrived, size
                          in itertools.takewhile(lambda r: r[1] <= until, rows)])
        max_bytes = MOVE_BYTES if max_bytes is None else max_bytes
        chosen: dict[str, list[int]] = {}
        total = count = 0
        for _arrived, name, id_, size in heapq.merge(*heads):
            if count >= limit or (count and total + size > max_bytes):
                break
            chosen.setdefault(name, []).append(id_)
            total, count = total + size, count + 1
        events = []
        for name, ids in chosen.items():   # each a run of consecutive ids
            events += [SpooledEvent(name, *row) for row in self._query(
                name, f"SELECT id, {_COLUMNS} FROM events WHERE id BETWEEN ? AND ? ORDER BY id",
                (ids[0], ids[-1]))]
        return sorted(events, key=lambda e: (e.arrived, e.spool, e.id))

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
            if self._con(name) is None or self._query(
                    name, "SELECT 1 FROM events WHERE id > ? LIMIT 1", (moved_upto,)):
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
            for id_, arrived in self._query(
                    name, "SELECT id, arrived FROM events ORDER BY id DESC LIMIT 1"):
                waiting += max(0, id_ - marks.get(name, 0))
                newest = arrived if newest is None else max(newest, arrived)
        return waiting, newest

    def close(self) -> None:
        for con in self._cons.values():
            con.close()
        self._cons.clear()

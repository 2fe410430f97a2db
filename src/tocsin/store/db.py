"""Database engines: SQLite (WAL, writers serialised with BEGIN IMMEDIATE) or PostgreSQL."""

from __future__ import annotations

import fcntl
import json
import os
import threading
from pathlib import Path

import orjson
import psycopg
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str, *, immediate: bool = True, pool_size: int = 10) -> Engine:
    """Build an engine. On SQLite, `immediate` makes every transaction take the write lock
    at BEGIN, so two writers queue (busy_timeout) instead of failing mid-transaction."""
    if is_sqlite(url):
        return _sqlite_engine(url, immediate)
    # PostgreSQL's own `$1` placeholders, sent as they are (psycopg's RawCursor). With
    # SQLAlchemy's default (`%(name)s`), psycopg rewrites every statement it cannot cache,
    # and triage's multi-row INSERTs are too long to cache: that rewrite was 37% of the
    # engine's time (py-spy); without it triage went from 1,700 to 2,300 events/s.
    engine = create_engine(url, pool_size=pool_size, max_overflow=20, pool_pre_ping=True,
                           json_serializer=dumps, json_deserializer=orjson.loads,
                           paramstyle="numeric_dollar")

    @event.listens_for(engine, "connect")
    def _raw_cursors(dbapi_conn, _record):  # noqa: ANN001
        dbapi_conn.cursor_factory = psycopg.RawCursor
        dbapi_conn.server_cursor_factory = psycopg.RawServerCursor   # yield_per, streams

    return engine


def dumps(value: object) -> str:
    # orjson: JSON columns (alerts, bodies of timeline entries) are on the intake hot path.
    # It refuses integers beyond 64 bits and lone surrogates; the standard library takes
    # both (escaped), so odd but valid input is stored rather than failing with a 500.
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(value, default=str)


def _sqlite_engine(url: str, immediate: bool) -> Engine:
    u = make_url(url)
    if u.database and u.database != ":memory:":
        Path(u.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                           json_serializer=dumps, json_deserializer=orjson.loads)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # noqa: ANN001
        dbapi_conn.isolation_level = None  # let us emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        # FULL: a commit is on disk (fsync) before a sender hears "accepted"; group commit
        # keeps that affordable.
        cur.execute("PRAGMA synchronous=FULL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # noqa: ANN001
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class SqliteWriteLock:
    """Queues writers to one SQLite file, across threads and processes (flock on a side
    file). SQLite allows one writer anyway; waiting here is fair and wakes at once, where
    SQLite's busy handler polls with growing sleeps and lets unlucky writers starve."""

    def __init__(self, db_path: str | None) -> None:
        self._thread_lock = threading.Lock()
        self._path = f"{db_path}.writelock" if db_path and db_path != ":memory:" else None
        self._fd: int | None = None

    def acquire(self) -> None:
        self._thread_lock.acquire()
        if self._path:
            if self._fd is None:
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self._fd, fcntl.LOCK_EX)

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._thread_lock.release()


def sqlite_path(url: str) -> str | None:
    return make_url(url).database

"""Shared fixtures: a migrated database per test, on SQLite and (when reachable) PostgreSQL."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from tocsin.bootstrap import Container, build
from tocsin.domain.auth import cli_actor
from tocsin.integrations.outbound.fake import FakeNotifier
from tocsin.ports import FixedClock
from tocsin.services import config as config_svc
from tocsin.settings import Settings
from tocsin.store.db import make_engine
from tocsin.store.migrate import upgrade
from tocsin.store.models import Base

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = ROOT / "src" / "tocsin" / "config" / "default.yaml"
PG_ADMIN_URL = os.environ.get("TOCSIN_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _pg_reachable() -> str | None:
    try:
        import psycopg

        dsn = PG_ADMIN_URL.replace("postgresql+psycopg", "postgresql")
        with psycopg.connect(dsn, connect_timeout=3):
            return None
    except Exception as exc:  # noqa: BLE001 - any failure means "no server here"
        return f"{type(exc).__name__}: {exc}".strip()


@pytest.fixture(scope="session")
def pg_url() -> str:
    """A fresh, migrated PostgreSQL database for this test session."""
    problem = _pg_reachable()
    if problem:
        msg = f"PostgreSQL not reachable at {PG_ADMIN_URL} ({problem})"
        if os.environ.get("TOCSIN_REQUIRE_POSTGRES"):
            pytest.fail(msg + " — TOCSIN_REQUIRE_POSTGRES is set", pytrace=False)
        pytest.skip(msg)
    import psycopg

    name = f"tocsin_test_{os.getpid()}"
    admin = PG_ADMIN_URL.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "tocsin.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


def _reset_pg(url: str) -> None:
    engine = make_engine(url)
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        conn.execute(text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, :h)"),
                     {"h": "0" * 64})
        conn.execute(text("INSERT INTO counters (name, value) VALUES ('incident', 0)"))
        conn.execute(text("ALTER SEQUENCE incident_number_seq RESTART WITH 1"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    if request.param == "sqlite":
        target = tmp_path / "tocsin.db"
        shutil.copy(sqlite_template, target)
        return f"sqlite:///{target}"
    url = request.getfixturevalue("pg_url")
    _reset_pg(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    target = tmp_path / "tocsin.db"
    shutil.copy(sqlite_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


def make_container(url: str, tmp_path: Path, clock: FixedClock) -> Container:
    settings = Settings(database_url=url, var_dir=str(tmp_path / "var"), secret_key="test-secret",
                        engine=False)
    c = build(settings, clock, FakeNotifier())  # nothing leaves the machine in tests
    config_svc.apply_text(c.uow(), cli_actor(), DEFAULT_CONFIG.read_text(), "default.yaml")
    return c


@pytest.fixture
def container(db_url: str, tmp_path: Path, clock: FixedClock) -> Container:
    c = make_container(db_url, tmp_path, clock)
    yield c
    c.dispose()


@pytest.fixture
def sqlite_container(sqlite_url: str, tmp_path: Path, clock: FixedClock) -> Container:
    c = make_container(sqlite_url, tmp_path, clock)
    yield c
    c.dispose()

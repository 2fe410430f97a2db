"""How web intake stores a group of events: on PostgreSQL one autocommit COPY on a
connection of its own, replaced when the server drops it (SQLite: see test_intake_spool)."""

from __future__ import annotations

import psycopg
import pytest

from tocsin.domain.auth import cli_actor
from tocsin.services import alerts, catalog, intake


@pytest.fixture
def pg(container):
    """(container, integration, the hot path's writer) on PostgreSQL."""
    c = container
    if c.spools is not None:
        pytest.skip("PostgreSQL only: SQLite intake writes to spools (test_intake_spool.py)")
    catalog.create_service(c.uow(), cli_actor(), catalog.ServiceInput("checkout", tier=1))
    integ = alerts.create_integration(c.uow(), cli_actor(), "prom", "alertmanager",
                                      "checkout", {}, "http://t")
    return c, intake.lookup(c.uow(read_only=True), integ.key), \
        intake.event_writer(c.engine, c.write_lock, c.spool_dir)


def test_the_postgresql_writer_commits_each_group_and_reconnects(pg):
    c, info, write = pg

    def row() -> dict:
        return intake.event_row(info, c.clock.now(), "application/json", b"{}", [])

    def stored() -> int:
        with c.uow(read_only=True) as uow:
            return uow.intake.inflow(100)[0]

    write([row(), row()])
    assert stored() == 2                                  # committed, visible to others
    url = c.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as admin:
        killed = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = "
            "current_database() AND query LIKE 'COPY intake_events%'").fetchone()[0]
    assert killed == 1                                    # the writer's own connection
    with pytest.raises(psycopg.OperationalError):
        write([row()])           # this group fails (the group committer retries it) ...
    assert stored() == 2
    write([row()])               # ... and the next write has a new connection
    assert stored() == 3


def test_big_events_are_compressed_with_lz4_on_postgresql(pg):   # migration 0015
    c, info, write = pg
    body = b'{"alerts": [' + b",".join(b'{"labels": {"n": "%d"}}' % i for i in range(2000)) + b"]}"
    alerts_ = [{"dedup_key": f"k{i}", "labels": {"n": str(i)}} for i in range(500)]
    write([intake.event_row(info, c.clock.now(), "application/json", body, alerts_)])
    with c.engine.connect() as conn:
        methods = conn.exec_driver_sql(
            "SELECT pg_column_compression(body), pg_column_compression(alerts) "
            "FROM intake_events").one()
    assert tuple(methods) == ("lz4", "lz4")

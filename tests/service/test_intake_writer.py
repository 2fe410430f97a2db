"""How web intake stores a group of events: on PostgreSQL one autocommit COPY on a
connection of its own, replaced when the server drops it (SQLite: see test_intake_spool)."""

from __future__ import annotations

import psycopg
import pytest

from tocsin.domain.auth import cli_actor
from tocsin.services import alerts, catalog, intake


def test_the_postgresql_writer_commits_each_group_and_reconnects(container):
    c = container
    if c.spools is not None:
        pytest.skip("SQLite intake writes to spools (test_intake_spool.py)")
    catalog.create_service(c.uow(), cli_actor(), catalog.ServiceInput("checkout", tier=1))
    integ = alerts.create_integration(c.uow(), cli_actor(), "prom", "alertmanager",
                                      "checkout", {}, "http://t")
    info = intake.lookup(c.uow(read_only=True), integ.key)
    write = intake.event_writer(c.engine, c.write_lock, c.spool_dir)

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

"""SQLite intake spools (store/spool.py, services/intake_spool.py): web workers append
accepted events to spools of their own; the engine moves them into intake_events in arrival
order, exactly once, and deletes the spools of processes that are gone."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import delete, func, select

from tocsin.domain.auth import cli_actor
from tocsin.services import alerts, catalog, intake, intake_spool
from tocsin.services.intake import IntegrationInfo
from tocsin.store import spool
from tocsin.store.models import IntakeEvent, IntakeSpool, Integration
from tocsin.store.spool import SpoolReader, SpoolWriter

ADMIN = cli_actor()


@pytest.fixture
def integ(sqlite_container):
    catalog.create_service(sqlite_container.uow(), ADMIN, catalog.ServiceInput("checkout"))
    row = alerts.create_integration(sqlite_container.uow(), ADMIN, "prom", "alertmanager",
                                    "checkout", {}, "http://t")
    return IntegrationInfo(row.id, row.name, row.type, 1, {}, True)


def row(c, integ, key: str, result=None):
    alert = {"source": "alertmanager", "action": "trigger", "dedup_key": key, "summary": key,
             "severity": "critical", "labels": {"alertname": key, "n": "ü"}}
    r = intake.event_row(integ, c.clock.now(), "application/json", f'{{"k":"{key}"}}'.encode(),
                         [alert])
    if result is not None:
        r["result"] = result
    return r


def moved(c) -> list[IntakeEvent]:
    with c.uow(read_only=True) as u:
        rows = list(u.session.scalars(select(IntakeEvent).order_by(IntakeEvent.id)))
        for r in rows:
            _ = r.body   # loaded before the session closes
        u.session.expunge_all()
        return rows


def keys(c) -> list[str]:
    return [e.alerts[0]["dedup_key"] for e in moved(c)]


def test_spooled_events_arrive_in_intake_events_as_written(sqlite_container, integ):
    c = sqlite_container
    writer = SpoolWriter(c.spool_dir)
    writer.write([row(c, integ, "a"), row(c, integ, "b", {"notices": [{"kind": "x"}]})])
    assert intake_spool.move(c.uow, c.spools) == 2
    first, second = moved(c)
    assert first.received_at == c.clock.now() and first.content_type == "application/json"
    assert first.body == b'{"k":"a"}' and first.processed_at is None and first.result is None
    assert first.alerts == [row(c, integ, "a")["alerts"][0]]
    assert second.result == {"notices": [{"kind": "x"}]}
    assert intake_spool.inflow(c.uow, c.spools)[0] == 0
    assert intake_spool.move(c.uow, c.spools) == 0


def test_moves_in_arrival_order_across_spools(sqlite_container, integ):
    c = sqlite_container
    a, b = SpoolWriter(c.spool_dir), SpoolWriter(c.spool_dir)
    a.write([row(c, integ, "1")])
    b.write([row(c, integ, "2")])
    a.write([row(c, integ, "3")])
    b.write([row(c, integ, "4"), row(c, integ, "5")])
    assert intake_spool.move(c.uow, c.spools, limit=3) == 3
    assert intake_spool.move(c.uow, c.spools) == 2
    assert keys(c) == ["1", "2", "3", "4", "5"]


def test_events_written_after_the_cut_wait_for_the_next_move(sqlite_container, integ):
    c = sqlite_container
    writer = SpoolWriter(c.spool_dir)
    writer.write([row(c, integ, "early")])
    until = time.time()
    time.sleep(0.01)
    writer.write([row(c, integ, "late")])
    got = c.spools.pending({}, until, 100)
    assert len(got) == 1 and '"early"' in got[0].alerts


def test_moved_events_are_never_moved_again(sqlite_container, integ):
    c = sqlite_container
    SpoolWriter(c.spool_dir).write([row(c, integ, "a"), row(c, integ, "b")])
    assert intake_spool.move(c.uow, c.spools) == 2
    restarted = SpoolReader(c.spool_dir)          # an engine that starts again
    assert intake_spool.move(c.uow, restarted) == 0
    assert keys(c) == ["a", "b"]
    assert intake_spool.inflow(c.uow, restarted)[0] == 0
    restarted.close()


def test_a_writer_starts_a_new_spool_after_rotate_rows(sqlite_container, integ, monkeypatch):
    c = sqlite_container
    monkeypatch.setattr(spool, "ROTATE_ROWS", 3)
    writer = SpoolWriter(c.spool_dir)
    writer.write([row(c, integ, "1"), row(c, integ, "2")])
    first = writer.name
    writer.write([row(c, integ, "3"), row(c, integ, "4")])   # 4 rows: finished
    writer.write([row(c, integ, "5")])
    assert writer.name != first and len(c.spools.names()) == 2
    assert intake_spool.move(c.uow, c.spools) == 5
    assert intake_spool.move(c.uow, c.spools) == 0   # idle: the finished spool goes
    assert c.spools.names() == [writer.name]
    assert keys(c) == ["1", "2", "3", "4", "5"]


def test_spools_of_gone_processes_are_deleted_once_empty(sqlite_container, integ):
    c = sqlite_container
    live, gone = SpoolWriter(c.spool_dir), SpoolWriter(c.spool_dir)
    live.write([row(c, integ, "live")])
    gone.write([row(c, integ, "gone")])
    gone.close()   # its process ended: the owner lock is free
    assert sorted(c.spools.names()) == sorted([live.name, gone.name])
    assert intake_spool.move(c.uow, c.spools) == 2
    assert intake_spool.move(c.uow, c.spools) == 0   # idle: tidies up
    assert c.spools.names() == [live.name]
    assert not list(c.spool_dir.glob(f"{gone.name}*"))
    with c.uow(read_only=True) as u:   # the gone spool's mark stays, as a tombstone
        assert sorted(s.name for s in u.session.scalars(select(IntakeSpool))) == sorted(
            [live.name, gone.name])
    live.write([row(c, integ, "again")])
    assert intake_spool.move(c.uow, c.spools) == 1
    assert keys(c) == ["live", "gone", "again"] or keys(c) == ["gone", "live", "again"]


def test_events_of_a_deleted_integration_are_dropped_not_stuck(sqlite_container, integ):
    c = sqlite_container
    other = alerts.create_integration(c.uow(), ADMIN, "other", "alertmanager", "checkout", {},
                                      "http://t")
    info = IntegrationInfo(other.id, other.name, other.type, 1, {}, True)
    SpoolWriter(c.spool_dir).write([row(c, info, "orphan"), row(c, integ, "kept")])
    with c.uow() as u:   # no API deletes integrations; an operator's SQL can
        u.session.execute(delete(Integration).where(Integration.id == other.id))
        u.commit()
    assert intake_spool.move(c.uow, c.spools) == 2   # taken off the spool either way
    assert keys(c) == ["kept"]
    assert intake_spool.inflow(c.uow, c.spools)[0] == 0


def test_a_big_group_is_one_transaction(sqlite_container, integ):
    c = sqlite_container
    SpoolWriter(c.spool_dir).write([row(c, integ, str(i)) for i in range(2500)])
    total = 0
    while n := intake_spool.move(c.uow, c.spools):
        total += n
    assert total == 2500
    with c.uow(read_only=True) as u:
        assert u.session.scalar(select(func.count()).select_from(IntakeEvent)) == 2500
    assert keys(c)[:3] == ["0", "1", "2"] and keys(c)[-1] == "2499"


def test_postgresql_has_no_spool(container):
    if container.engine.dialect.name == "sqlite":
        assert container.spool_dir is not None and isinstance(container.spools, SpoolReader)
    else:
        assert container.spool_dir is None and container.spools is None


def test_a_clock_that_steps_back_loses_nothing(sqlite_container, integ, monkeypatch):
    c = sqlite_container
    writer = SpoolWriter(c.spool_dir)
    monkeypatch.setattr(spool.time, "time", lambda: 1000.5)
    writer.write([row(c, integ, "first")])
    monkeypatch.setattr(spool.time, "time", lambda: 999.7)   # NTP steps the clock back
    writer.write([row(c, integ, "second")])
    assert [e.arrived for e in c.spools.pending({}, 2000.0, 10)] == [1000.5, 1000.5]
    assert c.spools.pending({}, 999.8, 10) == []   # nothing is taken out of order
    monkeypatch.undo()
    assert intake_spool.move(c.uow, c.spools) == 2
    assert keys(c) == ["first", "second"]


def test_a_spool_that_cannot_be_read_does_not_stop_the_others(sqlite_container, integ,
                                                                caplog):
    c = sqlite_container
    SpoolWriter(c.spool_dir).write([row(c, integ, "good")])
    (c.spool_dir / "999-bad.db").write_bytes(b"this is not a database" * 100)
    other = SpoolWriter(c.spool_dir)
    other.write([row(c, integ, "newer")])
    with other._con:   # a spool of another (future) format
        other._con.execute("PRAGMA user_version=99")
    assert intake_spool.move(c.uow, c.spools) == 1
    assert keys(c) == ["good"]
    assert "999-bad" in caplog.text and "schema version 99" in caplog.text
    assert (c.spool_dir / "999-bad.db").exists()   # kept for a person to look at


def test_a_move_takes_about_max_bytes(sqlite_container, integ, monkeypatch):
    c = sqlite_container
    SpoolWriter(c.spool_dir).write([row(c, integ, str(i)) for i in range(10)])
    size = len(row(c, integ, "0")["body"]) + len(spool.dumps(row(c, integ, "0")["alerts"]))
    monkeypatch.setattr(spool, "MOVE_BYTES", size * 3)
    moves = []
    while n := intake_spool.move(c.uow, c.spools):
        moves.append(n)
    assert moves == [3, 3, 3, 1] and keys(c) == [str(i) for i in range(10)]


def test_a_stale_mover_does_not_move_a_retired_spool_again(sqlite_container, integ):
    c = sqlite_container
    writer = SpoolWriter(c.spool_dir)
    writer.write([row(c, integ, "once")])
    stale = SpoolReader(c.spool_dir)
    with c.uow(read_only=True) as u:
        old_marks = u.intake.spool_marks()
    seen = stale.pending(old_marks, time.time(), 10)       # read, then stalled
    writer.close()
    assert intake_spool.move(c.uow, c.spools) == 1          # the other engine moves it ...
    assert intake_spool.move(c.uow, c.spools) == 0          # ... and retires the spool
    assert c.spools.names() == []
    with c.uow() as w:                                      # the stale one wakes up
        marks = w.intake.spool_marks()
        assert [e for e in seen if e.id > marks.get(e.spool, 0)] == []
    assert keys(c) == ["once"]
    stale.close()

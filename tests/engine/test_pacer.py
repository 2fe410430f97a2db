"""In an alert flood the engine beside a server holds its intake work back (moving spooled
alerts in, triage) to a share of the time, so that taking alerts comes first; timers and
pages are never held back; when the flood stops, intake work runs flat out again."""

from __future__ import annotations

import time

import pytest

from tocsin.domain.auth import cli_actor
from tocsin.engine import engine as engine_mod
from tocsin.engine.engine import Engine, Pacer, Processor, flooding
from tocsin.services import alerts, catalog, intake
from tocsin.services.intake import IntegrationInfo
from tocsin.store.spool import SpoolWriter


def test_rest_is_proportional_to_the_work_done_in_a_flood():
    p = Pacer(share=0.2)
    p.after(0.1, flooding=True, now=100.0)
    assert p.paused_for(100.0) == pytest.approx(0.4)   # 0.1 s of work, then 0.4 s of rest
    assert p.paused_for(100.3) == pytest.approx(0.1)
    assert p.paused_for(100.5) == 0
    p.after(0.1, flooding=False, now=101.0)
    assert p.paused_for(101.0) == 0                     # no flood: no rest


def engine_with(container, flood: bool, monkeypatch):
    ran: list[str] = []
    monkeypatch.setattr(engine_mod, "flooding", lambda c, recent: flood)
    procs = [Processor("triage", lambda c: ran.append("triage") or 5, paced=True),
             Processor("escalator", lambda c: ran.append("escalator") or 0)]
    return Engine(container, procs, pacer=Pacer(share=0.5)), ran


def test_paced_work_waits_in_a_flood_but_timers_do_not(sqlite_container, monkeypatch):
    eng, ran = engine_with(sqlite_container, True, monkeypatch)
    eng.processors[0].run = lambda c: (time.sleep(0.2), ran.append("triage"), 5)[-1]
    eng.run_cycle()
    assert ran == ["triage", "escalator"] and eng.paused_for() > 0.1
    eng.run_cycle()
    assert ran == ["triage", "escalator", "escalator"]   # triage rests, the escalator runs
    time.sleep(eng.paused_for() + 0.01)
    eng.run_cycle()
    assert ran[-2:] == ["triage", "escalator"]


def test_without_a_flood_nothing_waits(sqlite_container, monkeypatch):
    eng, ran = engine_with(sqlite_container, False, monkeypatch)
    for _ in range(3):
        eng.run_cycle()
    assert ran.count("triage") == 3 and eng.paused_for() == 0


def test_an_engine_without_a_pacer_never_waits(sqlite_container):
    ran: list[str] = []
    eng = Engine(sqlite_container, [Processor("triage", lambda c: ran.append("t") or 5,
                                              paced=True)])
    eng.run_cycle()
    eng.run_cycle()
    assert ran == ["t", "t"] and eng.paused_for() == 0


def test_a_flood_is_a_backlog_that_still_grows(sqlite_container, monkeypatch):
    c = sqlite_container
    info = IntegrationInfo(1, "x", "alertmanager", 1, {}, True)
    rows = [intake.event_row(info, c.clock.now(), "application/json", b"{}", [])
            for _ in range(30)]
    assert not flooding(c, recent=1.0)                  # nothing spooled
    monkeypatch.setattr(engine_mod, "FLOOD_BACKLOG", 20)
    SpoolWriter(c.spool_dir).write(rows[:10])
    assert not flooding(c, recent=1.0)                  # a few: the engine keeps up
    SpoolWriter(c.spool_dir).write(rows[10:])
    assert flooding(c, recent=1.0)                      # 30 waiting, just arrived
    time.sleep(0.05)
    assert not flooding(c, recent=0.01)                 # waiting, but no longer arriving


def test_a_rest_never_lasts_more_than_longest():
    p = Pacer(share=0.05)
    p.after(10.0, flooding=True, now=0.0)   # e.g. a batch that waited for the write lock
    assert p.paused_for(0.0) == p.longest == 2.0


def test_the_rest_ends_when_the_flood_does(sqlite_container, monkeypatch):
    eng, ran = engine_with(sqlite_container, True, monkeypatch)
    eng.processors[0].run = lambda c: (time.sleep(0.2), ran.append("triage"), 5)[-1]
    eng.run_cycle()
    assert eng.paused_for() > 0.1
    monkeypatch.setattr(engine_mod, "flooding", lambda c, recent: False)   # it stopped
    eng.run_cycle()
    assert ran.count("triage") == 2


def test_an_error_while_pacing_does_not_stop_the_engine(sqlite_container, monkeypatch):
    eng, ran = engine_with(sqlite_container, True, monkeypatch)

    def broken(c, recent):
        raise OSError("disk gone")
    monkeypatch.setattr(engine_mod, "flooding", broken)
    eng.run_cycle()
    eng.run_cycle()
    assert ran == ["triage", "escalator", "triage", "escalator"]   # no flood assumed


def test_on_postgresql_a_flood_is_untriaged_events_still_arriving(container, clock, monkeypatch):
    """Without spools (PostgreSQL) intake stores straight into intake_events: the backlog is
    what triage has not taken yet."""
    c = container
    if c.spools is not None:
        pytest.skip("SQLite floods are measured in the spools (test above)")
    catalog.create_service(c.uow(), cli_actor(), catalog.ServiceInput("checkout", tier=1))
    integ = alerts.create_integration(c.uow(), cli_actor(), "prom", "alertmanager", "checkout",
                                      {}, "http://t")
    info = intake.lookup(c.uow(read_only=True), integ.key)
    monkeypatch.setattr(engine_mod, "FLOOD_BACKLOG", 20)
    rows = lambda n: [intake.event_row(info, c.clock.now(), "application/json", b"{}", [])  # noqa: E731
                      for _ in range(n)]
    assert not flooding(c, recent=1.0)                  # nothing stored
    intake.insert_events(c.engine, c.write_lock, rows(10))
    assert not flooding(c, recent=1.0)                  # a few: triage keeps up
    intake.insert_events(c.engine, c.write_lock, rows(20))
    assert flooding(c, recent=1.0)                      # 30 untriaged, just received
    clock.advance(seconds=2)
    assert not flooding(c, recent=1.0)                  # untriaged, but no longer arriving
    Engine(c).drain()
    intake.insert_events(c.engine, c.write_lock, rows(5))
    assert not flooding(c, recent=1.0)                  # triaged: only the 5 new ones wait


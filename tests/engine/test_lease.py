"""SQLite: one engine works at a time. A second one does nothing until the first stops
(releases the lease) or dies (stops renewing it)."""

from __future__ import annotations

from tocsin.engine.engine import Engine, Processor
from tocsin.services import engine_lease


def counting(container, holder, seen):
    return Engine(container, [Processor("count", lambda c: seen.append(holder) or 0)],
                  holder=holder)


def test_a_second_engine_waits_for_the_first(sqlite_container, clock):
    seen: list[str] = []
    a, b = counting(sqlite_container, "a", seen), counting(sqlite_container, "b", seen)
    a.run_cycle()
    b.run_cycle()
    a.run_cycle()
    assert seen == ["a", "a"] and b.waiting_for == "a"
    clock.advance(seconds=engine_lease.TTL.total_seconds() + 1)   # a died: no renewal
    b.run_cycle()
    a.run_cycle()
    assert seen == ["a", "a", "b"] and a.waiting_for == "b"
    b.release()                                                   # a clean stop
    a.run_cycle()
    assert seen == ["a", "a", "b", "a"] and a.waiting_for == ""


def test_the_lease_is_renewed_while_the_engine_works(sqlite_container, clock):
    seen: list[str] = []
    a, b = counting(sqlite_container, "a", seen), counting(sqlite_container, "b", seen)
    for _ in range(18):   # 3 minutes of cycles, 10 s apart (a real engine: every second)
        a.run_cycle()
        clock.advance(seconds=10)
        b.run_cycle()
    assert set(seen) == {"a"} and b.waiting_for == "a"


def test_postgresql_engines_share_the_work_without_a_lease(container):
    if container.write_lock is not None:
        return  # the SQLite case is above
    seen: list[str] = []
    counting(container, "a", seen).run_cycle()
    counting(container, "b", seen).run_cycle()
    assert seen == ["a", "b"]


def test_seeding_the_demo_leaves_no_lease_behind(sqlite_container, tmp_path):
    from tocsin.services import demo

    demo.seed(sqlite_container, tmp_path / "var")
    seen: list[str] = []
    counting(sqlite_container, "the server's engine", seen).run_cycle()
    assert seen == ["the server's engine"]

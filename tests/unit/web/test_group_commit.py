"""The intake group committer: concurrent requests share a write, and one row the database
refuses fails only its own request."""

from __future__ import annotations

import asyncio
import random
import time

import pytest

from tocsin.web.intake import GroupCommitter


class Store:
    def __init__(self) -> None:
        self.writes: list[list[int]] = []
        self.commits = 0

    def write(self, rows: list[dict]) -> None:
        if any(r.get("bad") for r in rows):
            raise ValueError("refused")
        self.writes.append([r["n"] for r in rows])


def run(store: Store, rows: list[dict]) -> list[BaseException | None]:
    async def main() -> list[BaseException | None]:
        gc = GroupCommitter(store.write, lambda: setattr(store, "commits", store.commits + 1))
        return await asyncio.gather(*(gc.submit(r) for r in rows), return_exceptions=True)
    return asyncio.run(main())


def test_concurrent_requests_share_writes():
    store = Store()
    results = run(store, [{"n": i} for i in range(50)])
    assert results == [None] * 50
    assert sorted(n for w in store.writes for n in w) == list(range(50))
    assert len(store.writes) < 50 and store.commits == len(store.writes)


def test_a_refused_row_fails_only_its_own_request():
    store = Store()
    rows = [{"n": i, "bad": i == 7} for i in range(20)]
    results = run(store, rows)
    assert isinstance(results[7], ValueError)
    assert all(r is None for i, r in enumerate(results) if i != 7)
    assert sorted(n for w in store.writes for n in w) == [i for i in range(20) if i != 7]


@pytest.mark.parametrize("n", [1, 3])
def test_every_waiter_hears_of_a_failure(n):
    store = Store()
    results = run(store, [{"n": i, "bad": True} for i in range(n)])
    assert all(isinstance(r, ValueError) for r in results) and store.writes == []


class SlowStore(Store):
    """Each write takes a while, as a commit does."""

    def write(self, rows: list[dict]) -> None:
        time.sleep(0.002)
        super().write(rows)


def closed_loop(delay: float, clients: int = 24, rounds: int = 30) -> list[int]:
    """Group sizes when `clients` senders each send again soon after they are answered
    (after 0-3 ms, as over a network)."""
    store = SlowStore()
    pause = random.Random(7)

    async def main() -> None:
        gc = GroupCommitter(store.write, lambda: None, delay=delay)

        async def client(c: int) -> None:
            for i in range(rounds):
                await gc.submit({"n": c * rounds + i})
                await asyncio.sleep(pause.uniform(0, 0.003))
        await asyncio.wait_for(asyncio.gather(*(client(c) for c in range(clients))), 60)
    asyncio.run(main())
    assert sorted(n for w in store.writes for n in w) == list(range(clients * rounds))
    return [len(w) for w in store.writes]


def test_under_concurrent_load_the_commit_delay_lets_all_waiting_senders_share_a_group():
    # the wait ends as soon as the senders are back, not when the (long) delay runs out
    sizes = closed_loop(delay=30)
    assert sorted(sizes[5:])[len(sizes[5:]) // 2] == 24, sizes     # the median group: all
    without = closed_loop(delay=0)
    assert len(without) > len(sizes), (without, sizes)              # more, smaller groups


def test_a_lone_sender_is_never_held_back():
    store = SlowStore()

    async def main() -> None:
        gc = GroupCommitter(store.write, lambda: None, delay=3600)
        for i in range(5):   # one at a time, as a single Alertmanager would
            await asyncio.wait_for(gc.submit({"n": i}), 30)
    asyncio.run(main())
    assert store.writes == [[0], [1], [2], [3], [4]]


def test_the_delay_gives_up_when_the_senders_do_not_come_back():
    store = SlowStore()

    async def main() -> None:
        gc = GroupCommitter(store.write, lambda: None, delay=0.05)
        await asyncio.gather(*(gc.submit({"n": i}) for i in range(10)))   # groups of 10 ...
        await asyncio.gather(*(gc.submit({"n": i}) for i in range(10, 20)))
        await asyncio.wait_for(gc.submit({"n": 20}), 30)   # ... then a lone one still goes
    asyncio.run(main())
    assert sorted(n for w in store.writes for n in w) == list(range(21))


def test_after_a_pause_the_senders_of_an_earlier_burst_are_not_waited_for():
    store = SlowStore()

    async def main() -> None:
        gc = GroupCommitter(store.write, lambda: None, delay=3600)
        await asyncio.gather(*(gc.submit({"n": i}) for i in range(10)))   # a burst of 10 ...
        await asyncio.sleep(0.3)
        await asyncio.wait_for(gc.submit({"n": 10}), 30)   # ... long over: no wait
    asyncio.run(main())
    assert store.writes == [list(range(10)), [10]]

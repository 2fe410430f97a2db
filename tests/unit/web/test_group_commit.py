"""The intake group committer: concurrent requests share a write, and one row the database
refuses fails only its own request."""

from __future__ import annotations

import asyncio

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

"""PostgreSQL statements go out with `$n` placeholders through psycopg's raw cursors
(store/db.py): parameters, literal percent signs and server-side cursors still work."""

from __future__ import annotations

import pytest
from sqlalchemy import column, literal_column, select, table, text

from tocsin.store.db import make_engine

pytestmark = pytest.mark.postgres

words = table("words", column("w"))


@pytest.fixture
def engine(pg_url):
    eng = make_engine(pg_url)
    with eng.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS words"))
        conn.execute(text("CREATE TABLE words (w text)"))
        conn.execute(words.insert(), [{"w": w} for w in ("50%", "fifty", "5%0", "half")])
    yield eng
    with eng.begin() as conn:
        conn.execute(text("DROP TABLE words"))
    eng.dispose()


def test_parameters_and_literal_percent_signs(engine):
    with engine.connect() as conn:
        assert conn.execute(text("SELECT CAST(:a AS int) + CAST(:a AS int)"), {"a": 2}).scalar() == 4
        found = conn.execute(select(words.c.w).where(words.c.w.contains("%", autoescape=True))
                             ).scalars().all()
        assert sorted(found) == ["5%0", "50%"]
        literal = conn.execute(select(words.c.w).where(words.c.w.like(literal_column("'f%'")))
                               ).scalars().all()
        assert literal == ["fifty"]
        assert conn.execute(text("SELECT '100%' || :x"), {"x": "!"}).scalar() == "100%!"


def test_a_server_side_cursor_takes_parameters(engine):
    # yield_per / stream_results use a named (server-side) cursor, which must read `$n` too
    with engine.connect() as conn:
        rows = conn.execution_options(yield_per=1).execute(
            select(words.c.w).where(words.c.w != "half")).scalars().all()
    assert sorted(rows) == ["5%0", "50%", "fifty"]

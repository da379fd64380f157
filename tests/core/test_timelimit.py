"""The one query time limit (core/timelimit.py), used by the catalog search and the data API, on both
databases: a query past the limit is aborted as QueryTimeout, the limit ends with its block, and other
database errors pass through unchanged."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from govshare.core.db import Database
from govshare.core.timelimit import time_limited
from govshare.errors import QueryTimeout

HEAVY = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000000) "
    "SELECT count(*) FROM n"
)
# Long enough to outlast a 50 ms limit that is still (wrongly) in force, short enough to finish quickly.
MODERATE = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000) SELECT count(*) FROM n"
)


def test_a_query_past_the_limit_is_aborted_as_query_timeout(db: Database) -> None:
    started = time.monotonic()
    with (
        db.transaction(readonly=True) as session,
        pytest.raises(QueryTimeout, match="查询超过 50 毫秒被中止") as raised,
        time_limited(session, 50),
    ):
        session.execute(text(HEAVY))
    assert time.monotonic() - started < 10
    assert raised.value.status == 400 and raised.value.code == "query_timeout"


def test_the_limit_ends_with_its_block(db: Database) -> None:
    with db.transaction(readonly=True) as session:
        with time_limited(session, 50):
            assert session.execute(text("SELECT 1")).scalar_one() == 1
        time.sleep(0.1)  # the block's deadline has passed
        assert session.execute(text(MODERATE)).scalar_one() == 300000
        if session.connection().dialect.name == "postgresql":
            assert session.execute(text("SHOW statement_timeout")).scalar_one() == "0"


def test_the_limit_ends_when_the_block_raises_outside_the_database(db: Database) -> None:
    with db.transaction(readonly=True) as session:
        with pytest.raises(LookupError), time_limited(session, 50):
            raise LookupError("not a database error")
        time.sleep(0.1)
        assert session.execute(text(MODERATE)).scalar_one() == 300000


def test_other_database_errors_pass_through_unchanged(db: Database) -> None:
    with (
        db.transaction(readonly=True) as session,
        pytest.raises(DBAPIError) as raised,
        time_limited(session, 5000),
    ):
        session.execute(text("SELECT * FROM no_such_table"))
    assert not isinstance(raised.value, QueryTimeout)

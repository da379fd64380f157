"""The one time limit on a query (Datasette's `sql_time_limit_ms`): no request can tie up the node.

PostgreSQL enforces it itself (`SET LOCAL statement_timeout`, so it ends with the transaction at the
latest); SQLite has no such setting, so a progress handler interrupts the statement once the deadline
has passed. Either way a query that runs past the limit raises `QueryTimeout`; the caller may turn it
into the refusal its edge wants (the catalog search answers 503, the data API 400).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from govshare.errors import QueryTimeout

# SQLite calls the progress handler every this many virtual-machine instructions (well under a
# millisecond), so the deadline is checked often enough and costs nothing measurable.
_SQLITE_CHECK_EVERY = 10_000


def timeout_message(limit_ms: int) -> str:
    return f"查询超过 {limit_ms} 毫秒被中止，请增加查询条件、缩小范围"


def _is_timeout(error: OperationalError) -> bool:
    """SQLite's "interrupted", PostgreSQL's "canceling statement due to statement timeout"."""
    message = str(error).lower()
    return "interrupted" in message or "statement timeout" in message or "canceling statement" in message


@contextmanager
def time_limited(session: Session, limit_ms: int) -> Iterator[None]:
    """Run the queries of the block under a time limit of `limit_ms`; one that runs past it is aborted
    and raises `QueryTimeout`. The limit is lifted when the block ends, so later queries of the same
    transaction run unlimited (unless the block failed on the database: PostgreSQL has aborted the
    transaction then, accepts no further statement, and `SET LOCAL` ends with it)."""
    connection = session.connection()
    postgresql = connection.dialect.name == "postgresql"
    raw: Any = None
    if postgresql:
        connection.exec_driver_sql(f"SET LOCAL statement_timeout = {int(limit_ms)}")
    else:
        raw = connection.connection.driver_connection
        deadline = time.monotonic() + limit_ms / 1000
        raw.set_progress_handler(lambda: int(time.monotonic() > deadline), _SQLITE_CHECK_EVERY)
    failed_in_database = False
    try:
        yield
    except DBAPIError as error:
        failed_in_database = True
        if isinstance(error, OperationalError) and _is_timeout(error):
            raise QueryTimeout(timeout_message(limit_ms)) from None
        raise
    finally:
        if not postgresql:
            raw.set_progress_handler(None, 0)
        elif not failed_in_database:
            connection.exec_driver_sql("SET LOCAL statement_timeout = 0")

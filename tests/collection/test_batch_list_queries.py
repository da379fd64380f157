"""The batch list names each batch's resource without a query per batch (issue #13: the list issued two
queries per batch, the resource and its newest version). The statements a list request sends are counted
(SQLAlchemy `before_cursor_execute`) with 2 and with 20 batches over two resources: the count must not grow.
On SQLite and PostgreSQL (`db`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event, insert, select

from govshare.core.clock import utcnow
from govshare.core.db import Database
from govshare.models import Batch, Department, Resource
from tests import factories
from tests.catalog.helpers import apply
from tests.collection.helpers import PEOPLE, setup

OTHER = {**PEOPLE, "name": "测试人口信息（第二份）"}


def _add_batches(db: Database, count: int) -> None:
    """`count` finished batches, alternating between the two resources."""
    now = utcnow()
    with db.transaction() as session:
        resources = list(session.scalars(select(Resource.id).order_by(Resource.id)))
        department_id = session.scalars(select(Department.id).where(Department.code == "GA")).one()
        session.execute(
            insert(Batch),
            [
                {
                    "resource_id": resources[n % len(resources)],
                    "department_id": department_id,
                    "kind": "run",
                    "origin": f"测试批次 {n}",
                    "mapping": "columns: {}",
                    "mode": "full",
                    "status": "succeeded",
                    "phase": "done",
                    "started_by": "test",
                    "started_at": now - timedelta(minutes=5),
                    "heartbeat_at": now,
                    "finished_at": now,
                }
                for n in range(count)
            ],
        )


@contextmanager
def _statements(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def _listed(client: TestClient, db: Database) -> tuple[list[dict[str, Any]], int]:
    with _statements(db) as seen:
        answer = client.get("/api/v1/collection/batches", params={"limit": 100})
    assert answer.status_code == 200, answer.text
    return answer.json(), len(seen)


def test_batch_list_sends_the_same_statements_for_2_and_20_batches(client: TestClient, db: Database) -> None:
    setup(db)
    apply(db, OTHER)
    factories.login(client, "admin")
    _add_batches(db, 2)
    few, few_statements = _listed(client, db)
    _add_batches(db, 18)
    many, many_statements = _listed(client, db)
    assert (len(few), len(many)) == (2, 20)
    assert {b["resource_name"] for b in many} == {PEOPLE["name"], OTHER["name"]}
    assert all(b["resource_code"] for b in many)
    assert many_statements == few_statements, (few_statements, many_statements)

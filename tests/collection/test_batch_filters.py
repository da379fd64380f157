"""Batches and sources of one department or one source, filtered in SQL before the limit (issue #13: the
portal's overview filtered the node's newest 200 batches by department in Python, so a department whose
batches were older than those showed none). The API takes the same filters, and each batch names its
department. On SQLite and PostgreSQL (`db`)."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from govshare.auth.actor import Actor, grants_for_roles
from govshare.auth.permissions import Permission, Role, Scope
from govshare.collection import policies
from govshare.core.clock import utcnow
from govshare.core.db import Database
from govshare.models import Batch, Department, Resource, Source
from tests import factories
from tests.collection.helpers import setup
from tests.web.portal_helpers import page, portal_login


def _department_id(db: Database, code: str) -> int:
    with db.transaction(readonly=True) as session:
        return session.scalars(select(Department.id).where(Department.code == code)).one()


def _batches(db: Database, department: str, count: int, *, source_id: int | None = None) -> list[int]:
    """`count` finished batches of the test resource, filed under `department`, newest last."""
    department_id = _department_id(db, department)
    now = utcnow()
    with db.transaction() as session:
        resource_id = session.scalars(select(Resource.id)).first()
        rows = [
            {
                "resource_id": resource_id,
                "department_id": department_id,
                "source_id": source_id,
                "kind": "run",
                "origin": f"{department} 测试批次 {n}",
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
        ]
        session.execute(insert(Batch), rows)
        found = session.scalars(
            select(Batch.id).where(Batch.department_id == department_id).order_by(Batch.id)
        ).all()
    return list(found[-count:])


def _source(db: Database, name: str) -> int:
    with db.transaction() as session:
        resource = session.scalars(select(Resource)).first()
        assert resource is not None
        source = Source(
            resource_id=resource.id,
            department_id=resource.department_id,
            name=name,
            kind="csv",
            mapping="columns: {}",
            created_by="test",
        )
        session.add(source)
        session.flush()
        return source.id


def _ids(response: object) -> list[int]:
    assert getattr(response, "status_code", None) == 200, getattr(response, "text", response)
    return [b["id"] for b in response.json()]  # type: ignore[attr-defined]


def test_a_departments_batches_are_filtered_before_the_limit(db: Database, client: TestClient) -> None:
    setup(db)
    ga_batches = _batches(db, "GA", 3)
    mz_batches = _batches(db, "MZ", 5)  # newer than every GA batch
    headers = factories.login(client, "auditor")
    ga = _department_id(db, "GA")

    newest = client.get("/api/v1/collection/batches?limit=2", headers=headers)
    assert _ids(newest) == mz_batches[::-1][:2]
    only_ga = client.get(f"/api/v1/collection/batches?department_id={ga}&limit=2", headers=headers)
    assert _ids(only_ga) == ga_batches[::-1][:2]
    assert {b["department_id"] for b in only_ga.json()} == {ga}


def test_a_department_asks_for_its_own_batches_only(db: Database, client: TestClient) -> None:
    setup(db)
    own = _batches(db, "GA", 1)
    _batches(db, "MZ", 1)
    headers = factories.login(client, "ga.steward")
    ga, mz = _department_id(db, "GA"), _department_id(db, "MZ")

    assert _ids(client.get(f"/api/v1/collection/batches?department_id={ga}", headers=headers)) == own
    refused = client.get(f"/api/v1/collection/batches?department_id={mz}", headers=headers)
    assert refused.status_code == 403, refused.text
    refused = client.get(f"/api/v1/collection/sources?department_id={mz}", headers=headers)
    assert refused.status_code == 403, refused.text


def test_a_sources_batches_are_filtered_before_the_limit(db: Database, client: TestClient) -> None:
    setup(db)
    source_id = _source(db, "人口月报表")
    of_source = _batches(db, "GA", 2, source_id=source_id)
    _batches(db, "GA", 4)  # newer, of no source
    headers = factories.login(client, "ga.steward")

    found = client.get(f"/api/v1/collection/batches?source_id={source_id}&limit=1", headers=headers)
    assert _ids(found) == [of_source[-1]]
    assert found.json()[0]["source_id"] == source_id


def test_sources_of_one_department(db: Database, client: TestClient) -> None:
    setup(db)
    source_id = _source(db, "人口月报表")
    headers = factories.login(client, "auditor")
    ga, mz = _department_id(db, "GA"), _department_id(db, "MZ")

    assert _ids(client.get(f"/api/v1/collection/sources?department_id={ga}", headers=headers)) == [source_id]
    assert _ids(client.get(f"/api/v1/collection/sources?department_id={mz}", headers=headers)) == []
    assert source_id in _ids(client.get("/api/v1/collection/sources", headers=headers))


def test_the_overview_finds_a_department_whose_batches_are_older_than_the_newest_200(
    db: Database, client: TestClient
) -> None:
    setup(db)
    (old,) = _batches(db, "GA", 1)
    _batches(db, "MZ", 201)
    portal_login(client, "auditor")

    shown = page(client, "/collection?department=GA")
    assert f'/collection/batches/{old}"' in shown
    assert f'/collection/batches/{old}"' not in page(client, "/collection?department=MZ")


def _user(name: str, department_id: int, role: Role) -> Actor:
    roles = frozenset({role})
    return Actor(
        kind="user", name=name, department_id=department_id, roles=roles, grants=grants_for_roles(roles)
    )


def test_may_run_is_the_scope_check_the_actions_make() -> None:
    steward = _user("ga.steward", 7, Role.DATA_STEWARD)
    auditor = _user("auditor", 1, Role.AUDITOR)
    assert steward.scope_of(Permission.COLLECTION_RUN) == Scope.OWN_DEPARTMENT
    assert policies.may_run(steward, 7) and not policies.may_run(steward, 8)
    assert not policies.may_run(auditor, 1) and not policies.may_run(auditor, 7)  # reads, never runs
    assert policies.may_run(Actor.system("test"), 8)

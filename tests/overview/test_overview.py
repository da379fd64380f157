"""The overview service and its API: a user's work waiting (待办) is the same list in the portal and in
`GET /api/v1/me/todo`, each kind only for who may do it; the dashboard's department is chosen by the
service, which refuses a department's staff another department's board."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from govshare.auth.actor import Actor
from govshare.auth.guard import ACTIONS
from govshare.core.db import Database
from govshare.errors import PermissionDenied
from govshare.identity import service as identity
from govshare.identity.repository import UserRepository
from govshare.overview import service as overview
from govshare.sharing import stats_service as sharing_stats
from tests import factories

KINDS = ["sharing.awaiting_me", "catalog.returned", "collection.quarantined"]


def actor_of(db: Database, username: str) -> Actor:
    with db.transaction(readonly=True) as session:
        user = UserRepository(session).by_username(username)
        assert user is not None
        return identity.actor_for_user(user)


def test_every_overview_function_declares_its_guard() -> None:
    assert ACTIONS["overview.todos"].kind == "public"
    assert ACTIONS["overview.node_figures"].kind == "public"
    assert ACTIONS["overview.dashboard_department"].kind == "permission"


def test_todos_are_empty_for_the_anonymous_and_for_who_does_none_of_the_work(db: Database) -> None:
    factories.city(db)
    with db.transaction(readonly=True) as session:
        assert overview.todos(session, Actor.anonymous()) == []
        assert overview.todos(session, actor_of(db, "security")) == []


def test_a_department_admin_has_each_kind_of_work_with_the_owning_services_count(db: Database) -> None:
    factories.city(db)
    ga = actor_of(db, "ga.admin")
    with db.transaction(readonly=True) as session:
        todos = overview.todos(session, ga)
        assert [t.kind for t in todos] == KINDS
        assert todos[0].count == sharing_stats.awaiting_me(session, ga)
        assert [t.page for t in todos] == ["/sharing", "/catalog/manage", "/collection"]


def test_the_api_gives_the_callers_todo_list(client: TestClient, db: Database) -> None:
    factories.city(db)
    assert client.get("/api/v1/me/todo").status_code == 401
    factories.login(client, "ga.admin")
    answer = client.get("/api/v1/me/todo")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [t["kind"] for t in body] == KINDS
    assert body[0] == {
        "kind": "sharing.awaiting_me",
        "label": "待我审批、审查或协调的共享申请",
        "count": 0,
        "page": "/sharing",
    }
    factories.login(client, "security")
    assert client.get("/api/v1/me/todo").json() == []


def test_the_dashboard_department_is_the_actors_own_unless_the_actor_is_node_wide(db: Database) -> None:
    factories.city(db)
    with db.transaction(readonly=True) as session:
        ga = actor_of(db, "ga.admin")
        own = overview.dashboard_department(session, ga, None)
        assert own.shown is not None and own.shown.code == "GA"
        assert [d.code for d in own.choices] == ["GA"] and not own.node_wide
        assert overview.dashboard_department(session, ga, "GA").shown == own.shown
        with pytest.raises(PermissionDenied, match="只能查看本部门的看板"):
            overview.dashboard_department(session, ga, "MZ")
        auditor = actor_of(db, "auditor")
        picked = overview.dashboard_department(session, auditor, "MZ")
        assert picked.node_wide and picked.shown is not None and picked.shown.code == "MZ"
        assert {"DSJ", "GA", "MZ"} <= {d.code for d in picked.choices}
        with pytest.raises(PermissionDenied):  # the security admin has no dashboard permission
            overview.dashboard_department(session, actor_of(db, "security"), None)

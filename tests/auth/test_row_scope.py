"""Row scope is a type only the policy layer produces, and repositories refuse anything else.

Before `RowScope`, a list function took `department_id: int | None`, None meaning "every department":
a forgotten narrowing or a None passed by mistake showed every department's rows. These tests pin the
replacement: the constructor needs the policy module's private token, the factories derive the scope
from the actor's grants, and each repository list function raises TypeError on a bare id or None
(mypy refuses those calls too: the parameter is annotated `RowScope`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.applications.repository import ApplicationRepository
from govshare.auth import scope as row_scope
from govshare.auth.actor import Actor
from govshare.auth.permissions import Permission, Scope
from govshare.auth.scope import RowScope, restrict
from govshare.collection.repository import CollectionRepository
from govshare.errors import PermissionDenied
from govshare.identity.repository import UserRepository
from govshare.inventory.repository import InfoSystemRepository
from govshare.models import Batch
from govshare.sharing.repository import SharingRepository

READ = Permission.COLLECTION_READ


def _actor(scope: Scope | None, department_id: int | None = 7) -> Actor:
    grants = {READ: scope} if scope is not None else {}
    return Actor(kind="user", name="u", id="1", department_id=department_id, grants=grants)


def test_only_the_policy_module_constructs_a_row_scope() -> None:
    with pytest.raises(TypeError):
        RowScope(object(), None, "forged: all departments")


def test_the_scope_follows_the_actor_grants() -> None:
    assert row_scope.for_actor(_actor(Scope.ALL), READ).all_departments
    own = row_scope.for_actor(_actor(Scope.OWN_DEPARTMENT), READ)
    assert not own.all_departments and own.department_ids == {7}
    assert own.allows(7) and not own.allows(8) and not own.allows(None)
    # an actor of no department never sees "all" by accident (the old None meant every department)
    nowhere = row_scope.for_actor(_actor(Scope.OWN_DEPARTMENT, department_id=None), READ)
    assert not nowhere.all_departments and nowhere.department_ids == frozenset()


def test_asking_for_another_department_is_refused_unless_node_wide() -> None:
    with pytest.raises(PermissionDenied):
        row_scope.for_department(_actor(Scope.OWN_DEPARTMENT), READ, 8, action_name="test.list")
    assert row_scope.for_department(_actor(Scope.ALL), READ, 8, action_name="test.list").department_ids == {8}
    assert row_scope.for_department(
        _actor(Scope.OWN_DEPARTMENT), READ, 7, action_name="t"
    ).department_ids == {7}


def test_node_wide_needs_a_reason() -> None:
    with pytest.raises(ValueError, match="reason"):
        row_scope.node_wide(" ")
    assert row_scope.node_wide("the home page's node total").all_departments


def test_the_scope_is_a_where_clause_before_the_limit() -> None:
    statement = select(Batch).order_by(Batch.id.desc()).limit(5)
    own = row_scope.for_actor(_actor(Scope.OWN_DEPARTMENT), READ)
    sql = str(restrict(statement, own, Batch.department_id).compile(compile_kwargs={"literal_binds": True}))
    assert "WHERE collection_batch.department_id IN (7)" in sql
    assert sql.index("WHERE") < sql.index("LIMIT")
    everything = row_scope.for_actor(_actor(Scope.ALL), READ)
    assert "WHERE" not in str(restrict(statement, everything, Batch.department_id))


REPOSITORY_LISTS: dict[str, Callable[[Session, Any], object]] = {
    "identity.users": lambda s, scope: UserRepository(s).list(scope),
    "applications": lambda s, scope: ApplicationRepository(s).list(scope),
    "inventory.systems": lambda s, scope: InfoSystemRepository(s).find(scope),
    "collection.sources": lambda s, scope: CollectionRepository(s).sources(scope),
    "collection.batches": lambda s, scope: CollectionRepository(s).batches(scope),
    "collection.connections": lambda s, scope: CollectionRepository(s).connections(scope),
    "sharing.requests": lambda s, scope: SharingRepository(s).requests(scope, side="all"),
    "sharing.grants": lambda s, scope: SharingRepository(s).grants(scope),
    "sharing.usage": lambda s, scope: SharingRepository(s).usage(
        scope, since=date(2026, 1, 1), until=date(2026, 1, 2), group="resource"
    ),
}


@pytest.mark.parametrize("bare", [None, 7, -1], ids=["None", "int", "minus-one"])
@pytest.mark.parametrize("listing", sorted(REPOSITORY_LISTS))
def test_repositories_refuse_a_bare_department_id(listing: str, bare: object) -> None:
    with pytest.raises(TypeError, match="RowScope"):
        REPOSITORY_LISTS[listing](Session(), bare)

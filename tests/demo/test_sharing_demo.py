"""The demo city's sharing (govshare.demo.sharing): applications in every state the jurisdiction allows,
live grants for the approved ones, nothing new on a second run, and an approved consumer's key reading
masked data through the data API. On SQLite and PostgreSQL (the `db` fixture)."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from govshare.auth.actor import Actor
from govshare.collection import service as collection
from govshare.core.clock import utcnow
from govshare.core.db import Database
from govshare.demo import jobs
from govshare.demo import service as demo
from govshare.demo.sharing import seed_sharing
from govshare.errors import PermissionDenied
from govshare.identity.repository import UserRepository
from govshare.identity.service import actor_for_user
from govshare.models import ShareGrant, ShareRequest
from govshare.settings import Settings
from govshare.sharing import service as sharing
from govshare.sharing.schemas import RequestOut
from govshare.sharing.vocabulary import GrantKind, RequestState
from tests import factories

SYSTEM = Actor.system("test:demo")
S = RequestState
WITHOUT_PREREVIEW = {
    S.PENDING,
    S.APPROVED,
    S.PARTIAL,
    S.REFUSED,
    S.WITHDRAWN,
    S.NEGOTIATING,
    S.ESCALATED,
    S.SETTLED,
}
HEADERS = {"X-Purpose": quote("婚姻登记 HY-2026-0001 当事人身份核验"), "X-Operator": quote("婚姻登记员")}


def seed_city(db: Database) -> dict[str, str]:
    """The demo city (departments, users, applications, catalog); returns the applications' keys."""
    with db.transaction() as session:
        return demo.seed(session, SYSTEM).keys


def counts(db: Database) -> tuple[int, int]:
    with db.transaction(readonly=True) as session:
        requests = session.scalar(select(func.count()).select_from(ShareRequest)) or 0
        grants = session.scalar(select(func.count()).select_from(ShareGrant)) or 0
    return requests, grants


def test_the_demo_city_has_applications_in_every_state(
    db: Database, client: TestClient, tmp_path: Path
) -> None:
    keys = seed_city(db)
    started = time.perf_counter()
    jobs.load_sources(db, SYSTEM, tmp_path / "demo-sources")
    loading = time.perf_counter() - started
    assert loading < 20, f"loading the demo sources took {loading:.1f} s"

    with db.transaction(readonly=True) as session:
        user = UserRepository(session).by_username("mz.user")
        assert user is not None
        mz_user = actor_for_user(user)
    with pytest.raises(PermissionDenied):  # the console operator runs the demo, not a department's user
        seed_sharing(db, mz_user)

    first = seed_sharing(db, SYSTEM)
    assert set(first.requests) == {s.value for s in WITHOUT_PREREVIEW}
    assert first.subscriptions == 4
    assert len(first.backdated) == 2
    assert any("符合性审查" in note for note in first.skipped)  # the default jurisdiction has no such step
    assert "待审批 3" in first.summary() and "无条件订阅 4" in first.summary()

    now = utcnow()
    with db.transaction(readonly=True) as session:
        requests = sharing.list_requests(session, SYSTEM)
        assert Counter(r.state for r in requests) == Counter(first.requests)
        grant_of = sharing.grant_refs(session, SYSTEM, requests)
        decided = [r for r in requests if r.state in (S.APPROVED.value, S.PARTIAL.value)]
        assert len(decided) == 3
        for request in decided:
            grant = sharing.get_grant(session, SYSTEM, grant_of[request.id][0])
            assert grant.revoked_at is None and grant.valid_from <= now < grant.valid_to
            assert grant.items == request.approved_items
            assert set(grant.items) <= set(request.items)
        (partial,) = [r for r in requests if r.state == S.PARTIAL.value]
        assert partial.approved_items is not None and len(partial.approved_items) < len(partial.items)
        assert partial.approved_row_scope is not None and partial.row_scope
        for field, values in partial.approved_row_scope.items():
            assert set(values) < set(partial.row_scope[field])
        assert partial.decision_reason
        assert all(r.decision_reason for r in requests if r.state == S.REFUSED.value)
        negotiating = [r for r in requests if r.state == S.NEGOTIATING.value]
        assert {r.kind for r in negotiating} == {"apply", "negotiate"}  # a dispute, and a 不予共享 协商
        pending = [RequestOut.of(r, now=now) for r in requests if r.state == S.PENDING.value]
        assert sorted(p.overdue for p in pending) == [False, False, True]
        subscriptions = [
            g
            for g in sharing.list_grants(session, SYSTEM)
            if g.kind == GrantKind.SUBSCRIPTION.value and g.revoked_at is None
        ]
        assert len(subscriptions) == 4

    # A second run creates nothing.
    before = counts(db)
    again = seed_sharing(db, SYSTEM)
    assert again.created == 0 and again.requests == {} and again.backdated == []
    assert "未新建" in again.summary()
    assert counts(db) == before

    # The 主管部门's deadline check reminds the one due soon and escalates the overdue one.
    with db.transaction() as session:
        reminded, escalated = sharing.check_deadlines(session, SYSTEM)
    assert set(first.backdated) == {*reminded, *escalated}
    assert len(reminded) == 1 and len(escalated) == 1

    # 民政's 婚姻登记 system reads an approved person, masked, through the data API.
    with db.transaction() as session:
        (population,) = [r for r in decided if r.application.code == "mz-hydj"]
        code = population.resource.code
        assert code is not None
        (person,) = collection.records(session, SYSTEM, code, limit=1)
    response = client.get(
        f"/api/v1/data/{code}/records/{person['gmsfhm']}",
        headers={**factories.bearer(keys["mz-hydj"]), **HEADERS},
    )
    assert response.status_code == 200, response.text
    record = response.json()
    assert set(record) <= set(population.approved_items or [])
    assert "fwcs" not in record  # not asked for, not granted
    assert record["gmsfhm"] != person["gmsfhm"] and "*" in record["gmsfhm"]
    assert record["xm"] != person["xm"] and "*" in record["xm"]


def test_with_a_prereview_step_the_demo_has_those_states_too(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    rules = tmp_path / "jurisdiction.yaml"
    rules.write_text("sharing:\n  prereview_days: 2\n", encoding="utf-8")
    seed_city(db)
    reviewed = Database.from_settings(settings.model_copy(update={"jurisdiction_file": rules}))
    try:
        result = seed_sharing(reviewed, SYSTEM)
        assert set(result.requests) == {
            s.value for s in WITHOUT_PREREVIEW | {S.PREREVIEW, S.PREREVIEW_REJECTED}
        }
        assert result.skipped == []
        with reviewed.transaction(readonly=True) as session:
            requests = sharing.list_requests(session, SYSTEM)
        assert {r.state for r in requests} == set(result.requests)
        passed = [r for r in requests if r.kind == "apply" and r.state != S.PREREVIEW.value]
        assert all(r.prereview_by == "reviewer" for r in passed)
        assert seed_sharing(reviewed, SYSTEM).created == 0
    finally:
        reviewed.dispose()

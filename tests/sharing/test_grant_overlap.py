"""An approval never narrows an application's existing grant without the approver knowing (issue #18.1).

民政 holds a broad grant on 公安's population resource; a new, narrower application of the same system is
approved. Today's rule (one live grant per application and resource) would silently take the broader grant's
items away. The approver must now choose merge or replace; either way the old grant's end is its own audit
entry naming its successor, and the old request shows that its grant no longer applies. On SQLite and
PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from govshare.core.db import Database
from govshare.errors import Conflict
from govshare.models import AuditEntry, ShareGrant, ShareRequest
from govshare.sharing import service
from govshare.sharing.schemas import DecisionIn, SubscribeIn
from tests.sharing.helpers import resource_code, setup
from tests.sharing.test_workflow import actor, decide, file
from tests.web.portal_helpers import page, portal_login, post

BROAD = ["gmsfhm", "xm", "sjhm", "jzdz", "qx"]
NARROW = ["gmsfhm", "sjhm", "qx"]


@pytest.fixture
def city(db: Database, tmp_path: Path) -> str:
    setup(db, tmp_path)
    return resource_code(db)


def broad_then_narrow(db: Database, city: str) -> tuple[int, str]:
    """民政 holds a broad grant (with 手机号码 in clear); returns it and a pending, narrower application."""
    first = file(db, city, items=BROAD, clear_items=["sjhm"])
    decide(db, first, decision="approve")
    with db.transaction(readonly=True) as session:
        (grant,) = session.scalars(select(ShareGrant).where(ShareGrant.revoked_at.is_(None))).all()
        assert grant.items == BROAD and grant.clear_items == ["sjhm"]
        broad_id = grant.id
    return broad_id, file(db, city, items=NARROW, purpose="补充核对手机号码")


def live_grants(db: Database) -> list[ShareGrant]:
    with db.transaction(readonly=True) as session:
        return list(session.scalars(select(ShareGrant).where(ShareGrant.revoked_at.is_(None))))


def entries(db: Database, action: str) -> list[AuditEntry]:
    with db.transaction(readonly=True) as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_a_narrowing_approval_is_refused_until_the_approver_chooses(db: Database, city: str) -> None:
    broad_id, number = broad_then_narrow(db, city)
    with pytest.raises(Conflict) as refused:
        decide(db, number, decision="approve")
    message = str(refused.value)
    assert f"授权 {broad_id}" in message and "居住地址" in message and "姓名" in message
    assert "改为脱敏的信息项：手机号码" in message  # 手机号码 was clear, the new application asks it masked
    assert "合并" in message and "取代" in message
    # Nothing was written: the broad grant still applies and the application is still pending.
    (live,) = live_grants(db)
    assert live.id == broad_id and live.items == BROAD
    with db.transaction(readonly=True) as session:
        pending = session.scalars(select(ShareRequest).where(ShareRequest.state == "pending")).all()
        assert [r.number for r in pending] == [number]
    assert entries(db, "sharing.grant.supersede") == []


def test_merge_keeps_everything_the_old_grant_gave(db: Database, city: str) -> None:
    broad_id, number = broad_then_narrow(db, city)
    decide(db, number, decision="approve", existing_grant="merge")
    (live,) = live_grants(db)
    assert live.items == BROAD  # catalog order, union of both
    assert live.clear_items == ["sjhm"]
    with db.transaction(readonly=True) as session:
        old = session.get(ShareGrant, broad_id)
        assert old is not None and old.superseded_by == live.id
        assert old.revoked_reason == f"被授权 {live.id} 并入"
    (entry,) = entries(db, "sharing.grant.merge")
    assert entry.target_id == str(broad_id)
    assert entry.detail["successor"] == live.id
    assert "lost_items" not in entry.detail  # nothing was lost


def test_replace_revokes_the_old_grant_as_its_own_audited_act(
    db: Database, city: str, client: TestClient
) -> None:
    broad_id, number = broad_then_narrow(db, city)
    decide(db, number, decision="approve", existing_grant="replace")
    (live,) = live_grants(db)
    assert live.items == NARROW and live.clear_items == []
    (entry,) = entries(db, "sharing.grant.supersede")
    assert entry.target_id == str(broad_id) and entry.actor_name == "ga.admin"
    assert entry.detail["successor"] == live.id
    assert entry.detail["lost_items"] == ["xm", "jzdz"]
    assert entry.detail["lost_clear_items"] == ["sjhm"]
    # The applicant sees, on the old application, that its grant no longer applies and why.
    with db.transaction(readonly=True) as session:
        old_request = session.scalars(select(ShareRequest).order_by(ShareRequest.id)).first()
        assert old_request is not None
        refs = service.grant_refs(session, actor(db, "mz.admin"), [old_request])
    grant_id, ended = refs[old_request.id]
    assert grant_id == broad_id
    assert ended is not None and f"被授权 {live.id} 取代" in ended and "姓名" in ended and "居住地址" in ended
    portal_login(client, "mz.admin", "/sharing")
    listing = page(client, "/sharing")
    assert f"授权 {broad_id}</a>（已失效：被授权 {live.id} 取代" in listing


def test_a_widening_approval_needs_no_choice_and_is_still_audited(db: Database, city: str) -> None:
    first = file(db, city, items=NARROW)
    decide(db, first, decision="approve")
    (narrow,) = live_grants(db)
    wider = file(db, city, items=BROAD)
    decide(db, wider, decision="approve")
    (live,) = live_grants(db)
    assert live.items == BROAD
    (entry,) = entries(db, "sharing.grant.supersede")
    assert entry.target_id == str(narrow.id) and entry.detail["successor"] == live.id


def test_a_subscription_is_carried_on_without_asking(db: Database, city: str) -> None:
    """Only a live approval grant can be narrowed: a subscription's 无条件 items are carried on as before."""
    with db.transaction() as session:
        service.subscribe(
            session,
            actor(db, "mz.admin"),
            SubscribeIn(application="mz-dbsh", resource=city, purpose_kind="work_reference", purpose="核对"),
        )
    number = file(db, city, items=["sjhm", "qx"])
    with db.transaction() as session:
        request = service.decide(session, actor(db, "ga.admin"), number, DecisionIn(decision="approve"))
        assert request.state == "approved"
    (live,) = live_grants(db)
    assert live.items == ["gmsfhm", "xm", "sjhm", "qx"]


def _approve_form(**extra: Any) -> dict[str, Any]:
    return {"items": NARROW, "reason": "", **extra}


def test_the_portal_shows_both_grants_side_by_side_and_asks(
    db: Database, city: str, client: TestClient
) -> None:
    broad_id, number = broad_then_narrow(db, city)
    portal_login(client, "ga.admin", f"/sharing/requests/{number}")
    html = page(client, f"/sharing/requests/{number}")
    assert "该应用已持有的授权" in html and f"原授权 {broad_id}" in html and "本次申请" in html
    assert 'name="existing_grant" value="merge"' in html and 'name="existing_grant" value="replace"' in html
    where = f"/sharing/requests/{number}"
    refused = post(client, f"{where}/approve", html, **_approve_form())
    assert refused.status_code == 409
    assert "请选择“合并”" in refused.text and "居住地址" in refused.text
    assert [g.id for g in live_grants(db)] == [broad_id]
    done = post(client, f"{where}/approve", html, **_approve_form(existing_grant="replace"))
    assert done.status_code == 303, done.text
    (live,) = live_grants(db)
    assert live.items == NARROW
    # The applicant's side of the same page shows no comparison once decided, and the new grant.
    client.cookies.clear()
    portal_login(client, "mz.admin", where)
    decided = page(client, where)
    assert "该应用已持有的授权" not in decided and f"/sharing/grants#grant-{live.id}" in decided

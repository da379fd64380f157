"""The application workflow through the services: 符合性审查, decisions and their limits, 协商 and
escalation, subscriptions, one grant per application and resource, deadlines and the providers' timeliness."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from govshare.auth.actor import Actor
from govshare.core.clock import utcnow
from govshare.core.db import Database
from govshare.errors import Conflict, InvalidInput, PermissionDenied
from govshare.identity import service as identity
from govshare.identity.repository import UserRepository
from govshare.jurisdiction import Jurisdiction, SharingRules
from govshare.models import AuditEntry, ShareGrant
from govshare.sharing import negotiation, service, stats_service
from govshare.sharing.schemas import ApplyIn, DecisionIn, NegotiateIn, SubscribeIn
from tests.catalog.helpers import apply as apply_definition
from tests.sharing.helpers import PEOPLE, application_body, resource_code, setup

SYSTEM = Actor.system("test:sharing")


def actor(db: Database, username: str) -> Actor:
    with db.transaction(readonly=True) as session:
        user = UserRepository(session).by_username(username)
        assert user is not None
        return identity.actor_for_user(user)


def with_prereview(db: Database) -> Database:
    """The same database under a jurisdiction with a 2-working-day 符合性审查 and 5 days for the provider."""
    rules = Jurisdiction(sharing=SharingRules(prereview_days=2, provider_days=5))
    return Database(db.url, dataclasses.replace(db.config, jurisdiction=rules))


@pytest.fixture
def city(db: Database, tmp_path: Path) -> str:
    setup(db, tmp_path)
    return resource_code(db)


def file(db: Database, code: str, username: str = "mz.admin", **overrides: object) -> str:
    with db.transaction() as session:
        return service.apply(
            session, actor(db, username), ApplyIn(**application_body(code, **overrides))
        ).number


def decide(db: Database, number: str, username: str = "ga.admin", **decision: object) -> str:
    with db.transaction() as session:
        return service.decide(session, actor(db, username), number, DecisionIn(**decision)).state


def test_prereview_then_provider_deadline(db: Database, city: str) -> None:
    node = with_prereview(db)
    number = file(node, city)
    with node.transaction(readonly=True) as session:
        request = service.get_request(session, SYSTEM, number)
        assert request.state == "prereview"
        first_due = request.due_at
    # The provider cannot decide before the 主管部门 has reviewed.
    with pytest.raises(Conflict):
        decide(node, number, decision="approve")
    # Only the supervisor reviews.
    with node.transaction() as session, pytest.raises(PermissionDenied):
        service.prereview(session, actor(node, "ga.admin"), number, passed=True, comment="")
    with node.transaction() as session, pytest.raises(InvalidInput, match="理由"):
        service.prereview(session, actor(node, "reviewer"), number, passed=False, comment=" ")
    with node.transaction() as session:
        reviewed = service.prereview(
            session, actor(node, "reviewer"), number, passed=True, comment="符合规定"
        )
        assert reviewed.state == "pending"
        assert reviewed.due_at is not None and first_due is not None and reviewed.due_at > first_due
    assert decide(node, number, decision="approve") == "approved"


def test_refusal_needs_a_reason_and_can_be_negotiated_escalated_and_reopened(db: Database, city: str) -> None:
    number = file(db, city)
    with pytest.raises(InvalidInput, match="理由"):
        decide(db, number, decision="refuse", reason="")
    # the caller catches the error and commits what the session holds
    with db.transaction() as session, pytest.raises(InvalidInput):
        service.decide(session, actor(db, "ga.admin"), number, DecisionIn(decision="refuse"))
    with db.transaction(readonly=True) as session:
        untouched = service.get_request(session, SYSTEM, number)  # a refused input changed nothing
        assert (untouched.state, untouched.decided_by, untouched.closed_at) == ("pending", None, None)
        assert untouched.due_at is not None
    assert decide(db, number, decision="refuse", reason="申请用途与资源共享条件不符") == "refused"
    mz = actor(db, "mz.admin")
    with db.transaction() as session:
        assert (
            negotiation.dispute(session, mz, number, "低保审核属于共享条件中的社会救助职能").state
            == "negotiating"
        )
    with db.transaction() as session:
        answered = negotiation.answer_negotiation(session, actor(db, "ga.admin"), number, "维持原答复")
        assert answered.negotiation_outcome == "维持原答复"
    with db.transaction() as session:
        assert negotiation.escalate(session, mz, number, "双方意见不一致").state == "escalated"
    with db.transaction() as session:
        settled = negotiation.settle(
            session, actor(db, "reviewer"), number, outcome="reopen", comment="责成重新审批"
        )
        assert settled.state == "pending"
        assert settled.due_at is not None
    assert decide(db, number, decision="approve") == "approved"


def test_decisions_cannot_exceed_what_was_asked(db: Database, city: str) -> None:
    number = file(db, city, items=["gmsfhm", "xm"], clear_items=[], row_scope={"qx": ["110105"]})
    with pytest.raises(InvalidInput, match="申请范围"):
        decide(db, number, decision="approve", items=["gmsfhm", "xm", "sjhm"])
    with pytest.raises(InvalidInput, match="明文"):
        decide(db, number, decision="approve", clear_items=["xm"])
    with pytest.raises(InvalidInput, match="去掉"):
        decide(db, number, decision="approve", row_scope={}, reason="放宽范围")
    later = (date.today() + timedelta(days=400)).isoformat()
    with pytest.raises(InvalidInput, match="期限"):
        decide(db, number, decision="approve", valid_to=later)
    # Another department's admin cannot decide, nor can the consumer.
    with pytest.raises(PermissionDenied):
        decide(db, number, username="rs.admin", decision="approve")
    with pytest.raises(PermissionDenied):
        decide(db, number, username="mz.admin", decision="approve")
    assert decide(db, number, decision="approve") == "approved"


def test_applications_are_refused_for_other_share_types_and_own_resources(db: Database, city: str) -> None:
    with pytest.raises(InvalidInput, match="本部门"):
        file(db, city, username="ga.admin", application="ga-rkgl")
    # The data user of 民政 may apply for 民政's applications, not for 人社's.
    file(db, city, username="mz.user")
    with pytest.raises(PermissionDenied):
        file(db, city, username="mz.user", application="rs-shbz")
    # One open application per application and resource.
    with pytest.raises(Conflict, match="办理中"):
        file(db, city)
    closed = {
        **PEOPLE,
        "name": "不予共享测试资源",
        "share": {"type": "不予", "methods": ["接口"]},
        "legal_basis": "《中华人民共和国居民身份证法》",
    }
    closed["items"] = [{**item, "share": None} for item in PEOPLE["items"] if item.get("share") != "不予"]
    closed["items"] = [{k: v for k, v in item.items() if v is not None} for item in closed["items"]]
    apply_definition(db, closed)
    none_code = resource_code(db, "不予共享测试资源")
    with pytest.raises(InvalidInput, match="协商"):
        file(db, none_code)
    with db.transaction() as session:
        talk = negotiation.negotiate(
            session,
            actor(db, "mz.admin"),
            NegotiateIn(application="mz-dbsh", resource=none_code, reason="核查需要"),
        )
        assert (talk.kind, talk.state) == ("negotiate", "negotiating")
    with db.transaction() as session, pytest.raises(Conflict, match="不予共享"):
        negotiation.settle(session, actor(db, "reviewer"), talk.number, outcome="reopen", comment="试图责成")
    with db.transaction() as session, pytest.raises(InvalidInput, match="不予共享"):
        service.subscribe(
            session,
            actor(db, "mz.admin"),
            SubscribeIn(application="mz-dbsh", resource=none_code, purpose_kind="other", purpose="x"),
        )


def test_subscription_grants_only_unconditional_items_and_one_grant_per_pair(db: Database, city: str) -> None:
    mz = actor(db, "mz.admin")
    with db.transaction() as session, pytest.raises(InvalidInput, match="不是无条件共享"):
        service.subscribe(
            session,
            mz,
            SubscribeIn(
                application="mz-dbsh",
                resource=city,
                purpose_kind="work_reference",
                purpose="核对",
                items=["sjhm"],
            ),
        )
    with db.transaction() as session:
        grant = service.subscribe(
            session,
            mz,
            SubscribeIn(application="mz-dbsh", resource=city, purpose_kind="work_reference", purpose="核对"),
        )
        assert sorted(grant.items) == ["gmsfhm", "xm"]
        subscription_id = grant.id
    number = file(db, city, items=["sjhm", "qx"])
    decide(db, number, decision="approve")
    with db.transaction(readonly=True) as session:
        grants = session.scalars(select(ShareGrant).order_by(ShareGrant.id)).all()
        live = [g for g in grants if g.revoked_at is None]
        assert len(live) == 1 and live[0].kind == "approval"
        # the subscription's 无条件 items are carried over, in catalog order
        assert live[0].items == ["gmsfhm", "xm", "sjhm", "qx"]
        old = next(g for g in grants if g.id == subscription_id)
        assert old.revoked_reason == f"被授权 {live[0].id} 取代" and old.superseded_by == live[0].id
    # Subscribing again would replace the approval: refused.
    with db.transaction() as session, pytest.raises(Conflict, match="审批授权"):
        service.subscribe(
            session,
            mz,
            SubscribeIn(application="mz-dbsh", resource=city, purpose_kind="work_reference", purpose="核对"),
        )


def test_deadlines_remind_then_escalate_once_and_timeliness_is_recorded(db: Database, city: str) -> None:
    number = file(db, city)
    with db.transaction(readonly=True) as session:
        due = service.get_request(session, SYSTEM, number).due_at
    assert due is not None
    with db.transaction() as session:
        assert service.check_deadlines(session, SYSTEM, now=utcnow()) == ([], [])
    near = due - timedelta(days=1)
    with db.transaction() as session:
        assert service.check_deadlines(session, SYSTEM, now=near) == ([number], [])
    with db.transaction() as session:
        assert service.check_deadlines(session, SYSTEM, now=near) == ([], [])  # once
    late = due + timedelta(hours=1)
    with db.transaction() as session:
        assert service.check_deadlines(session, SYSTEM, now=late) == ([], [number])
    with db.transaction() as session:
        assert service.check_deadlines(session, SYSTEM, now=late) == ([], [])
    with db.transaction(readonly=True) as session:
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.target_id == number)).all()
    assert actions.count("sharing.remind") == 1 and actions.count("sharing.overdue") == 1
    with db.transaction() as session:
        rows = stats_service.timeliness(session, SYSTEM, since=date.today() - timedelta(days=1))
    assert [(r.department_code, r.decided, r.overdue_open) for r in rows] == [("GA", 0, 0)]
    decide(db, number, decision="approve")
    with db.transaction() as session:
        rows = stats_service.timeliness(session, SYSTEM, since=date.today() - timedelta(days=1))
    assert [(r.department_code, r.decided, r.within_deadline, r.average_working_days) for r in rows] == [
        ("GA", 1, 1, 0.0)
    ]


def test_the_services_insist_on_reasons_whoever_calls_them(db: Database, city: str) -> None:
    number = file(db, city)
    decide(db, number, decision="refuse", reason="用途不符合共享条件")
    mz = actor(db, "mz.admin")
    with db.transaction() as session, pytest.raises(InvalidInput, match="理由"):
        negotiation.dispute(session, mz, number, "  ")
    with db.transaction() as session:
        negotiation.dispute(session, mz, number, "用途符合条件")
    with db.transaction() as session, pytest.raises(InvalidInput, match="控制字符"):
        negotiation.escalate(session, mz, number, "协商不成\x00")
    with db.transaction() as session, pytest.raises(InvalidInput):
        negotiation.settle(session, actor(db, "reviewer"), number, outcome="maybe", comment="不明")
    with db.transaction() as session:
        grant = service.subscribe(
            session,
            mz,
            SubscribeIn(application="mz-dbsh", resource=city, purpose_kind="work_reference", purpose="核对"),
        )
        grant_id = grant.id
    with db.transaction() as session, pytest.raises(InvalidInput, match="理由"):
        service.revoke_grant(session, mz, grant_id, "")

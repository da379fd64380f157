"""Where a resource stands in its review and what a caller may do there (`catalog/workflow.py`): the answer
the service puts on every ResourceOut, so the API and the portal's workbench read the same one. Pure
functions: no database."""

from __future__ import annotations

import pytest

from govshare.auth.actor import Actor, grants_for_roles
from govshare.auth.permissions import Role
from govshare.catalog.workflow import Stage, allowed_actions, stage


def _person(role: Role, department: str = "GA") -> Actor:
    return Actor(
        kind="user",
        name=f"{department}.{role.value}",
        department_id=1,
        department_code=department,
        roles=frozenset({role}),
        grants=grants_for_roles(frozenset({role})),
    )


@pytest.mark.parametrize(
    ("pending_state", "status", "published", "expected"),
    [
        ("draft", "new", False, Stage.DRAFT),
        ("submitted", "new", False, Stage.SUBMITTED),
        ("returned", "new", False, Stage.RETURNED),
        ("submitted", "active", True, Stage.SUBMITTED),  # a new version in review: its state wins
        (None, "active", True, Stage.PUBLISHED),
        (None, "withdrawn", True, Stage.WITHDRAWN),
        (None, "new", False, Stage.DRAFT),  # nothing visible to this caller, never published
    ],
)
def test_stage(pending_state: str | None, status: str, published: bool, expected: Stage) -> None:
    assert stage(pending_state=pending_state, status=status, published=published) == expected


def test_stage_labels_are_chinese() -> None:
    assert [s.label for s in Stage] == ["草稿", "待审核", "已退回", "已发布", "已下架"]


def test_the_provider_steward_edits_and_submits_its_own_drafts_only() -> None:
    steward = _person(Role.DATA_STEWARD)
    assert allowed_actions(steward, provider_code="GA", at=Stage.DRAFT, status="new") == ["edit", "submit"]
    assert allowed_actions(steward, provider_code="GA", at=Stage.RETURNED, status="new") == ["edit", "submit"]
    assert allowed_actions(steward, provider_code="GA", at=Stage.SUBMITTED, status="new") == []
    assert allowed_actions(steward, provider_code="GA", at=Stage.PUBLISHED, status="active") == ["edit"]
    assert allowed_actions(steward, provider_code="MZ", at=Stage.DRAFT, status="new") == []


def test_the_reviewer_reviews_what_is_submitted_and_withdraws_anything_published() -> None:
    reviewer = _person(Role.CATALOG_REVIEWER, "DSJ")
    assert allowed_actions(reviewer, provider_code="GA", at=Stage.SUBMITTED, status="new") == [
        "approve",
        "return",
    ]
    assert allowed_actions(reviewer, provider_code="GA", at=Stage.SUBMITTED, status="active") == [
        "approve",
        "return",
        "withdraw",
    ]
    assert allowed_actions(reviewer, provider_code="GA", at=Stage.DRAFT, status="new") == []
    assert allowed_actions(reviewer, provider_code="GA", at=Stage.WITHDRAWN, status="withdrawn") == []


def test_the_department_admin_withdraws_its_own_department_only() -> None:
    admin = _person(Role.DEPARTMENT_ADMIN)
    assert allowed_actions(admin, provider_code="GA", at=Stage.PUBLISHED, status="active") == [
        "edit",
        "withdraw",
    ]
    assert allowed_actions(admin, provider_code="MZ", at=Stage.PUBLISHED, status="active") == []


def test_a_data_user_may_do_nothing() -> None:
    user = _person(Role.DATA_USER)
    for at in Stage:
        assert allowed_actions(user, provider_code="GA", at=at, status="active") == []

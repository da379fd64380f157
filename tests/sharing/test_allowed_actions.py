"""Which steps a reader may take on an application (`sharing.workflow.allowed_actions`), for each role and
state that matters, and the working days left on its clock (`workflow.working_days_left`). The services
check the same rules (`workflow.STEPS`), the request page shows them as forms and the API returns them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import get_args

import pytest

from govshare.auth.actor import Actor, grants_for_roles
from govshare.auth.permissions import Role
from govshare.jurisdiction import SharingRules
from govshare.sharing import workflow
from govshare.sharing.vocabulary import GrantState, RequestAction, RequestKind, RequestState
from govshare.sharing.workdays import CHINA, WorkCalendar

PROVIDER, CONSUMER, OTHER = 1, 2, 3
S, K = RequestState, RequestKind


def _user(role: Role, department_id: int | None) -> Actor:
    roles = frozenset({role})
    return Actor(
        kind="user", name=role.value, department_id=department_id, roles=roles, grants=grants_for_roles(roles)
    )


PROVIDER_ADMIN = _user(Role.DEPARTMENT_ADMIN, PROVIDER)
CONSUMER_ADMIN = _user(Role.DEPARTMENT_ADMIN, CONSUMER)
CONSUMER_USER = _user(Role.DATA_USER, CONSUMER)  # may apply, never approve
PROVIDER_USER = _user(Role.DATA_USER, PROVIDER)
OTHER_ADMIN = _user(Role.DEPARTMENT_ADMIN, OTHER)
SUPERVISOR = _user(Role.CATALOG_REVIEWER, None)  # the 主管部门
AUDITOR = _user(Role.AUDITOR, None)  # reads everything, acts on nothing


def _request(
    state: RequestState, kind: RequestKind = K.APPLY, due_at: datetime | None = None
) -> SimpleNamespace:
    return SimpleNamespace(
        state=state.value,
        kind=kind.value,
        provider_department_id=PROVIDER,
        consumer_department_id=CONSUMER,
        due_at=due_at,
    )


@pytest.mark.parametrize(
    ("actor", "state", "kind", "expected"),
    [
        # waiting for the provider: it approves or refuses, the applicant may withdraw
        (PROVIDER_ADMIN, S.PENDING, K.APPLY, ["approve", "refuse"]),
        (CONSUMER_ADMIN, S.PENDING, K.APPLY, ["withdraw"]),
        (CONSUMER_USER, S.PENDING, K.APPLY, ["withdraw"]),
        (PROVIDER_USER, S.PENDING, K.APPLY, []),  # of the provider, but holds no sharing:approve
        (OTHER_ADMIN, S.PENDING, K.APPLY, []),  # approve/apply only for its own department
        (SUPERVISOR, S.PENDING, K.APPLY, []),
        (AUDITOR, S.PENDING, K.APPLY, []),
        # 符合性审查 by the 主管部门 first
        (SUPERVISOR, S.PREREVIEW, K.APPLY, ["prereview"]),
        (PROVIDER_ADMIN, S.PREREVIEW, K.APPLY, []),
        (CONSUMER_ADMIN, S.PREREVIEW, K.APPLY, ["withdraw"]),
        # answered: the applicant may dispute a refusal, a partial approval or a failed 审查
        (CONSUMER_ADMIN, S.REFUSED, K.APPLY, ["dispute"]),
        (CONSUMER_ADMIN, S.PARTIAL, K.APPLY, ["dispute"]),
        (CONSUMER_ADMIN, S.PREREVIEW_REJECTED, K.APPLY, ["dispute"]),
        (CONSUMER_ADMIN, S.APPROVED, K.APPLY, []),
        (PROVIDER_ADMIN, S.REFUSED, K.APPLY, []),
        # 协商: the provider answers, the applicant withdraws or escalates, the 主管部门 may settle
        (PROVIDER_ADMIN, S.NEGOTIATING, K.APPLY, ["answer"]),
        (CONSUMER_ADMIN, S.NEGOTIATING, K.APPLY, ["withdraw", "escalate"]),
        (SUPERVISOR, S.NEGOTIATING, K.APPLY, ["settle"]),
        (SUPERVISOR, S.ESCALATED, K.APPLY, ["settle"]),
        (CONSUMER_ADMIN, S.ESCALATED, K.APPLY, []),
        # a negotiation about a 不予共享 resource is never approved as a grant
        (PROVIDER_ADMIN, S.PENDING, K.NEGOTIATE, []),
        (PROVIDER_ADMIN, S.NEGOTIATING, K.NEGOTIATE, ["answer"]),
        # closed: nothing left to do
        (CONSUMER_ADMIN, S.WITHDRAWN, K.APPLY, []),
        (SUPERVISOR, S.SETTLED, K.APPLY, []),
    ],
)
def test_allowed_actions_per_role_and_state(
    actor: Actor, state: RequestState, kind: RequestKind, expected: list[str]
) -> None:
    assert workflow.allowed_actions(actor, _request(state, kind)) == expected  # type: ignore[arg-type]


def test_the_console_may_take_every_step_of_the_state() -> None:
    """The system actor holds every permission at every scope: it is offered exactly the state's steps."""
    console = Actor.system("test:console")
    assert workflow.allowed_actions(console, _request(S.NEGOTIATING)) == [  # type: ignore[arg-type]
        "answer",
        "withdraw",
        "escalate",
        "settle",
    ]


def test_every_step_is_an_action_of_the_api_vocabulary() -> None:
    assert list(workflow.STEPS) == list(get_args(RequestAction))


def test_the_supervisors_inbox_holds_the_states_of_its_steps() -> None:
    assert set(workflow.SUPERVISOR_STATES) == {"prereview", "negotiating", "escalated"}


def _at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=CHINA).astimezone(UTC)


def test_working_days_left_only_while_the_clock_runs() -> None:
    calendar = WorkCalendar(SharingRules())
    due = calendar.add_working_days(_at(date(2026, 3, 2)), 2).due_at  # Wednesday 03-04 23:59:59
    now = _at(date(2026, 3, 3))
    for state in (S.PREREVIEW, S.PENDING, S.NEGOTIATING):
        assert workflow.working_days_left(calendar, _request(state, due_at=due), now) == 1  # type: ignore[arg-type]
    overdue = _at(date(2026, 3, 6))
    assert workflow.working_days_left(calendar, _request(S.PENDING, due_at=due), overdue) == -2  # type: ignore[arg-type]
    for state in (S.APPROVED, S.REFUSED, S.WITHDRAWN, S.ESCALATED, S.SETTLED):
        assert workflow.working_days_left(calendar, _request(state, due_at=due), now) is None  # type: ignore[arg-type]
    assert workflow.working_days_left(calendar, _request(S.PENDING), now) is None  # type: ignore[arg-type]


def _grant() -> SimpleNamespace:
    return SimpleNamespace(provider_department_id=PROVIDER, consumer_department_id=CONSUMER)


@pytest.mark.parametrize(
    ("actor", "state", "expected"),
    [
        (PROVIDER_ADMIN, GrantState.ACTIVE, ["revoke"]),  # the provider revokes
        (CONSUMER_ADMIN, GrantState.ACTIVE, ["revoke"]),  # the consumer gives it up
        (CONSUMER_USER, GrantState.NOT_YET, ["revoke"]),
        (PROVIDER_USER, GrantState.ACTIVE, []),  # of the provider, but holds no sharing:approve
        (OTHER_ADMIN, GrantState.ACTIVE, []),
        (SUPERVISOR, GrantState.ACTIVE, []),
        (AUDITOR, GrantState.ACTIVE, []),
        (PROVIDER_ADMIN, GrantState.EXPIRED, []),  # no longer in force: nothing to revoke
        (PROVIDER_ADMIN, GrantState.REVOKED, []),
    ],
)
def test_grant_actions_per_role_and_state(actor: Actor, state: GrantState, expected: list[str]) -> None:
    assert workflow.grant_actions(actor, _grant(), state) == expected  # type: ignore[arg-type]

"""The working-day countdown of the sharing inbox and request page: every branch, with the calendar's answer
fixed so that the wording alone is under test. The days left are the domain's (`sharing.workflow.
working_days_left`, returned by the API as `working_days_left`); the words are the page's
(`sharing.portal.common.countdown`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from govshare.sharing import workflow
from govshare.sharing.portal import common
from govshare.sharing.vocabulary import RequestState

NOW = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)  # Friday 10:00 in Beijing


@pytest.mark.parametrize(
    ("left", "due", "overdue", "state", "shown"),
    [
        (3, NOW + timedelta(days=5), False, RequestState.PENDING, "剩余 3 个工作日"),
        (0, NOW + timedelta(hours=5), False, RequestState.PENDING, "今天到期"),
        # due on Saturday: no working day left, but not today either
        (0, NOW + timedelta(days=1), False, RequestState.PENDING, "12月5日到期，之前已无工作日"),
        (-2, NOW - timedelta(days=3), True, RequestState.PENDING, "已超期 2 个工作日"),
        (0, NOW - timedelta(hours=1), True, RequestState.NEGOTIATING, "已超期"),
        (3, NOW + timedelta(days=5), False, RequestState.APPROVED, ""),  # decided: no clock
        (3, None, False, RequestState.PENDING, ""),
    ],
)
def test_countdown_wording(
    monkeypatch: pytest.MonkeyPatch,
    left: int,
    due: datetime | None,
    overdue: bool,
    state: RequestState,
    shown: str,
) -> None:
    calendar = SimpleNamespace(working_days_left=lambda now, due_at: left)
    monkeypatch.setattr(common, "utcnow", lambda: NOW)
    share = SimpleNamespace(due_at=due, state=state.value)
    days = workflow.working_days_left(calendar, share, NOW)  # type: ignore[arg-type]
    request = SimpleNamespace(due_at=due, state=state, overdue=overdue, working_days_left=days)
    assert common.countdown(request) == shown  # type: ignore[arg-type]

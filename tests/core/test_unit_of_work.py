"""The one unit of work (core/uow.py) every edge uses, on both databases: commit, rollback, writes deferred
past a read phase, the trace a refused action leaves after its rollback, and refusals audited."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from govshare.core.db import Database
from govshare.core.uow import UnitOfWork, unit_of
from govshare.errors import DenialContext, InvalidInput, PermissionDenied

SRC = Path(__file__).resolve().parents[2] / "src" / "govshare"


@pytest.fixture
def probe(db: Database) -> Database:
    with db.transaction() as session:
        session.execute(text("CREATE TABLE uow_probe (label VARCHAR(40) NOT NULL)"))
    return db


def _add(label: str):  # type: ignore[no-untyped-def]
    def write(session: Session) -> None:
        session.execute(text("INSERT INTO uow_probe (label) VALUES (:label)"), {"label": label})

    return write


def _fail_in(unit_of_work: UnitOfWork, *steps: Callable[[UnitOfWork], object], error: Exception) -> None:
    """Run `steps` in the unit, then end it with `error` (what a refused action does)."""
    with unit_of_work as unit:
        for step in steps:
            step(unit)
        raise error


REFUSED = InvalidInput.on("x", "refused")


def _labels(db: Database) -> list[str]:
    with db.transaction(readonly=True) as session:
        return sorted(session.scalars(text("SELECT label FROM uow_probe")))


def test_a_read_write_unit_commits_on_success_and_rolls_back_on_error(probe: Database) -> None:
    with UnitOfWork(probe) as unit:
        _add("kept")(unit.session)
    with pytest.raises(InvalidInput):
        _fail_in(UnitOfWork(probe), lambda unit: _add("lost")(unit.session), error=REFUSED)
    assert _labels(probe) == ["kept"]


def test_after_rollback_work_runs_only_when_the_unit_fails_and_is_committed(probe: Database) -> None:
    with UnitOfWork(probe) as unit:
        unit.after_rollback(_add("never: the unit succeeded"))
        _add("done")(unit.session)
    with pytest.raises(InvalidInput):
        _fail_in(
            UnitOfWork(probe),
            lambda unit: _add("rolled back")(unit.session),
            lambda unit: unit_of(unit.session).after_rollback(_add("trace of the refusal")),
            error=REFUSED,
        )
    assert _labels(probe) == ["done", "trace of the refusal"]


def test_a_read_only_unit_runs_its_deferred_writes_after_the_read_phase(probe: Database) -> None:
    with UnitOfWork(probe, readonly=True) as unit:
        unit_of(unit.session).defer(_add("audit of the read"))
        assert _labels(probe) == []  # not yet: the read phase is still open
    assert _labels(probe) == ["audit of the read"]


def test_a_read_only_unit_refuses_writes_in_its_read_phase(probe: Database) -> None:
    with pytest.raises(DBAPIError), UnitOfWork(probe, readonly=True) as unit:
        _add("stray write")(unit.session)
    assert _labels(probe) == []


def test_a_failed_read_only_unit_drops_its_deferred_writes_but_leaves_its_trace(probe: Database) -> None:
    with pytest.raises(InvalidInput):
        _fail_in(
            UnitOfWork(probe, readonly=True),
            lambda unit: unit.defer(_add("record of a call that failed")),
            lambda unit: unit.after_rollback(_add("refused call counted")),
            error=REFUSED,
        )
    assert _labels(probe) == ["refused call counted"]


def test_in_a_read_write_unit_a_deferred_write_joins_the_transaction(probe: Database) -> None:
    with pytest.raises(InvalidInput):
        _fail_in(
            UnitOfWork(probe), lambda unit: unit.defer(_add("rolled back with the action")), error=REFUSED
        )
    with UnitOfWork(probe) as unit:
        unit.defer(_add("committed with the action"))
    assert _labels(probe) == ["committed with the action"]


@pytest.mark.parametrize("readonly", [False, True])
def test_a_refusal_is_recorded_after_the_rollback(probe: Database, readonly: bool) -> None:
    refused: list[str] = []

    def on_refusal(session: Session, refusal: PermissionDenied) -> None:
        refused.append(refusal.message)
        _add(f"refusal: {refusal.context.permission if refusal.context else ''}")(session)

    denial = PermissionDenied("没有权限", context=DenialContext(action="probe", permission="probe_read"))
    steps = [] if readonly else [lambda unit: _add("the refused action")(unit.session)]
    with pytest.raises(PermissionDenied):
        _fail_in(UnitOfWork(probe, readonly=readonly, on_refusal=on_refusal), *steps, error=denial)
    assert refused == ["没有权限"]
    assert _labels(probe) == ["refusal: probe_read"]


def test_a_session_from_outside_a_unit_of_work_is_refused_loudly(db: Database) -> None:
    bare = db.session()
    try:
        with pytest.raises(RuntimeError, match="UnitOfWork"):
            unit_of(bare)
    finally:
        bare.close()


def _calls_commit_or_rollback(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"commit", "rollback"}
        ):
            found.append(f"{path.relative_to(SRC)}:{node.lineno} .{node.func.attr}()")
    return found


def test_no_portal_page_or_web_module_commits_or_rolls_back_by_hand() -> None:
    """Only the unit of work commits; a page that must show its form again raises through `form_errors`."""
    modules = [*sorted((SRC / "web").glob("*.py")), *sorted(SRC.glob("*/portal/**/*.py"))]
    assert len(modules) > 10
    offenders = [hit for module in modules for hit in _calls_commit_or_rollback(module)]
    assert offenders == []

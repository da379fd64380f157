"""Changing a code set one code at a time (`standards/code_editing.py`, used by the portal's code-set
page): the current version with the change becomes a new version; the earlier one stays as it was."""

from __future__ import annotations

from datetime import date

import pytest

from govshare.auth.actor import Actor
from govshare.core.db import Database
from govshare.errors import Conflict, InvalidInput, PermissionDenied
from govshare.standards import code_editing, service
from govshare.standards.code_editing import CodeEdit
from govshare.standards.schemas import CodeOut, CodeSetImport
from tests.standards.test_code_sets import READER

SYSTEM = Actor.system("test:standards")
TODAY = date(2026, 5, 1)


def edit(position: str = "", value: str = "3", label: str = "其他", version: str = "v2") -> CodeEdit:
    return CodeEdit(position, value, label, "", "", "", "", version)


def code(value: str, position: int, **attributes: str) -> CodeOut:
    return CodeOut(
        code=value,
        label="x",
        position=position,
        parent_code=None,
        valid_from=None,
        valid_to=None,
        attributes=attributes,
    )


def seed(db: Database) -> None:
    meta = CodeSetImport(code="GA-XB", version="v1", name="公安性别代码", source="本市公安局")
    with db.transaction() as session:
        service.import_code_set(session, SYSTEM, "代码,名称\n1,男\n2,女\n".encode(), meta)


def codes(db: Database, version: str | None = None) -> list[tuple[int, str, str]]:
    with db.transaction(readonly=True) as session:
        page = service.list_codes(session, READER, "GA-XB", version=version)
    return [(c.position, c.code, c.label) for c in page.items]


def test_adding_and_changing_a_code_make_new_versions(db: Database) -> None:
    seed(db)
    with db.transaction() as session:
        code_editing.save_code(session, SYSTEM, "GA-XB", edit(), today=TODAY)
    assert codes(db) == [(1, "1", "男"), (2, "2", "女"), (3, "3", "其他")]
    with db.transaction() as session:
        code_editing.save_code(session, SYSTEM, "GA-XB", edit("2", "2", "女性", "v3"), today=TODAY)
    assert codes(db) == [(1, "1", "男"), (2, "2", "女性"), (3, "3", "其他")]
    assert codes(db, "v1") == [(1, "1", "男"), (2, "2", "女")]  # the earlier version as it was


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (edit(value=" "), "code"),
        (edit(label=""), "label"),
        (edit(position="x"), "position"),
        (edit(position="7"), "position"),
        (CodeEdit("", "3", "其他", "", "2026-02-30", "", "", "v2"), "valid_from"),
    ],
)
def test_refused_input_names_its_field(db: Database, change: CodeEdit, field: str) -> None:
    seed(db)
    with db.transaction() as session, pytest.raises(InvalidInput) as refused:
        code_editing.save_code(session, SYSTEM, "GA-XB", change, today=TODAY)
    assert [e.field for e in refused.value.errors] == [field]


def test_who_may_not_and_what_cannot_change_one_code_at_a_time(db: Database) -> None:
    seed(db)
    with db.transaction() as session, pytest.raises(PermissionDenied):
        code_editing.save_code(session, READER, "GA-XB", edit(), today=TODAY)
    assert code_editing.why_not_editable([], is_builtin=True)
    many = [code(str(i), i) for i in range(code_editing.EDITABLE_MAX_CODES + 1)]
    assert code_editing.why_not_editable(many, is_builtin=False)
    extra = [code("1", 1, abbr="X")]
    assert code_editing.why_not_editable(extra, is_builtin=False)
    assert code_editing.why_not_editable(many[:2], is_builtin=False) is None
    with db.transaction(readonly=True) as session:
        builtin = next(s for s in service.list_code_sets(session, READER) if s.is_builtin)
    with db.transaction() as session, pytest.raises(Conflict):
        code_editing.save_code(session, SYSTEM, builtin.code, edit(), today=TODAY)

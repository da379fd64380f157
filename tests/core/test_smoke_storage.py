from __future__ import annotations

from sqlalchemy import text

from govshare.core import migrations
from govshare.core.db import Database
from tests import factories


def test_migrations_match_models_and_reach_head(db: Database) -> None:
    assert migrations.current_revision(db.engine) == migrations.head_revision()
    assert migrations.pending_model_changes(db.engine) == []


def test_transaction_rolls_back_action_and_its_audit_entry_together(db: Database) -> None:
    factories.department(db, "DSJ")
    with db.transaction() as session:
        before = session.scalar(text("SELECT count(*) FROM audit_entry"))
    try:
        with db.transaction() as session:
            from govshare.identity import service
            from govshare.identity.schemas import DepartmentCreate

            service.create_department(
                session,
                factories.SYSTEM,
                DepartmentCreate(code="TMP", name="临时部门", division_code="990100", level="city"),
            )
            raise RuntimeError("the edge fails after the action")
    except RuntimeError:
        pass
    with db.transaction() as session:
        assert session.scalar(text("SELECT count(*) FROM audit_entry")) == before
        assert session.scalar(text("SELECT count(*) FROM department WHERE code = 'TMP'")) == 0

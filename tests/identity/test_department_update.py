"""Changing a department (`identity.service.update_department`, `PATCH /api/v1/departments/{code}`,
`govshare dept edit`): only the fields sent change, the name stays unique, the parent exists and is never
the department itself or one of its sub-departments, and each real change is audited with its values
before and after. On SQLite and PostgreSQL (`db`)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from govshare.auth.actor import Actor
from govshare.auth.permissions import Role
from govshare.cli.main import app as cli_app
from govshare.core.db import Database
from govshare.errors import InvalidInput, PermissionDenied
from govshare.identity import service as identity
from govshare.identity.repository import UserRepository
from govshare.identity.schemas import DepartmentUpdate
from govshare.models import AuditEntry
from tests import factories

USCC = "11110000MB0000000X"


def updates(db: Database) -> list[AuditEntry]:
    with db.session() as session:
        return list(
            session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "identity.department.update")
                .order_by(AuditEntry.seq)
            )
        )


def department(client: TestClient, code: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/departments/{code}")
    assert response.status_code == 200, response.text
    found = response.json()
    assert isinstance(found, dict)
    return found


def patch(client: TestClient, headers: dict[str, str], code: str, body: dict[str, Any]) -> Any:
    return client.patch(f"/api/v1/departments/{code}", json=body, headers=headers)


def test_platform_admin_changes_only_the_fields_sent_and_the_change_is_audited(
    client: TestClient, db: Database
) -> None:
    factories.city(db)
    factories.department(db, "WJ", "测试市卫健委")  # no parent
    headers = factories.login(client, "admin")

    response = patch(
        client, headers, "WJ", {"name": "测试市卫生健康委员会", "parent_code": "DSJ", "uscc": USCC}
    )
    assert response.status_code == 200, response.text
    expected = {
        "code": "WJ",
        "name": "测试市卫生健康委员会",
        "division_code": "990100",
        "level": "city",
        "level_label": "市级",
        "parent_code": "DSJ",
        "uscc": USCC,
        "is_active": True,
    }
    assert response.json() == expected
    assert department(client, "WJ") == expected  # committed, not only answered

    [entry] = updates(db)
    assert (entry.target_type, entry.target_id, entry.actor_name, entry.outcome) == (
        "department",
        "WJ",
        "admin",
        "success",
    )
    assert entry.detail == {
        "name": {"before": "测试市卫健委", "after": "测试市卫生健康委员会"},
        "parent_code": {"before": None, "after": "DSJ"},
        "uscc": {"before": None, "after": USCC},
    }

    # A level in Chinese is understood; null clears the parent and the USCC; the code is not a field.
    response = patch(client, headers, "WJ", {"level": "县", "parent_code": None, "uscc": None})
    assert response.status_code == 200, response.text
    assert (response.json()["level"], response.json()["parent_code"], response.json()["uscc"]) == (
        "county",
        None,
        None,
    )
    assert updates(db)[-1].detail == {
        "level": {"before": "city", "after": "county"},
        "parent_code": {"before": "DSJ", "after": None},
        "uscc": {"before": USCC, "after": None},
    }
    refused = patch(client, headers, "WJ", {"code": "WJ2"})
    assert refused.status_code == 422
    assert client.get("/api/v1/departments/WJ2").status_code == 404


def test_a_change_that_changes_nothing_writes_no_audit_entry(client: TestClient, db: Database) -> None:
    factories.city(db)
    headers = factories.login(client, "admin")
    before = department(client, "GA")
    for body in (
        {},
        {"name": "测试市公安局"},
        {"name": "测试市公安局", "division_code": "990100", "level": "市级", "parent_code": "DSJ"},
    ):
        response = patch(client, headers, "GA", body)
        assert response.status_code == 200, response.text
        assert response.json() == before
    assert updates(db) == []


def test_name_must_stay_unique_and_required_fields_cannot_be_cleared(
    client: TestClient, db: Database
) -> None:
    factories.city(db)
    headers = factories.login(client, "admin")
    taken = patch(client, headers, "GA", {"name": "测试市民政局"})
    assert taken.status_code == 409
    assert taken.json()["detail"] == "部门名称“测试市民政局”已存在"
    for field in ("name", "division_code", "level"):
        cleared = patch(client, headers, "GA", {field: None})
        assert cleared.status_code == 422, field
        assert cleared.json()["errors"] == [{"field": field, "message": "不能为空；不修改请省略该字段"}]
    assert patch(client, headers, "NOPE", {"name": "某部门"}).status_code == 404
    assert department(client, "GA")["name"] == "测试市公安局"
    assert updates(db) == []


def test_the_parent_must_exist_and_never_make_a_cycle(client: TestClient, db: Database) -> None:
    factories.city(db)  # DSJ ← GA, DSJ ← MZ
    factories.department(db, "GA-XJ", "测试市公安局刑侦支队", parent="GA")
    factories.department(db, "GA-XJ-1", "测试市公安局刑侦一大队", parent="GA-XJ")
    headers = factories.login(client, "admin")

    def refused(code: str, parent: str) -> str:
        response = patch(client, headers, code, {"parent_code": parent})
        assert response.status_code == 422, response.text
        [error] = response.json()["errors"]
        assert error["field"] == "parent_code"
        return str(error["message"])

    assert refused("GA", "NOPE") == "上级部门“NOPE”不存在"
    assert refused("GA", "GA") == "上级部门不能是本部门自己"
    assert (
        refused("GA", "GA-XJ") == "“测试市公安局刑侦支队”是本部门的下级部门，不能作为上级部门（会形成循环）"
    )
    assert refused("DSJ", "GA-XJ-1") == (
        "“测试市公安局刑侦一大队”是本部门的下级部门，不能作为上级部门（会形成循环）"
    )
    assert department(client, "DSJ")["parent_code"] is None
    assert department(client, "GA")["parent_code"] == "DSJ"
    assert updates(db) == []

    # Moving a sub-department elsewhere is fine, and afterwards its old ancestors may sit below it.
    moved = patch(client, headers, "GA-XJ", {"parent_code": "MZ"})
    assert moved.status_code == 200 and moved.json()["parent_code"] == "MZ"
    assert patch(client, headers, "GA", {"parent_code": "GA-XJ-1"}).status_code == 200
    assert department(client, "GA")["parent_code"] == "GA-XJ-1"
    assert [e.target_id for e in updates(db)] == ["GA-XJ", "GA"]


@pytest.mark.parametrize("username", ["ga.admin", "security", "auditor", "ga.steward"])
def test_only_department_managers_change_a_department(
    client: TestClient, db: Database, username: str
) -> None:
    factories.city(db)
    headers = factories.login(client, username)
    response = patch(client, headers, "GA", {"name": "改名的公安局"})
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert department(client, "GA")["name"] == "测试市公安局"
    assert updates(db) == []
    with db.session() as session:
        denied = session.scalars(
            select(AuditEntry).where(AuditEntry.outcome == "denied", AuditEntry.actor_name == username)
        ).all()
    assert [(e.action, e.detail["permission"]) for e in denied] == [
        ("PATCH /api/v1/departments/{code}", "department:manage")
    ]


def _actor(db: Database, username: str) -> Actor:
    with db.session() as session:
        user = UserRepository(session).by_username(username)
        assert user is not None
        return identity.actor_for_user(user)


def test_the_service_checks_its_permission_and_the_parent(db: Database) -> None:
    factories.city(db)
    factories.user(db, "mz.user", "MZ", Role.DATA_USER)
    with db.transaction() as session, pytest.raises(PermissionDenied):
        identity.update_department(session, _actor(db, "mz.user"), "MZ", DepartmentUpdate(name="某局"))
    with db.transaction() as session, pytest.raises(InvalidInput) as cycle:
        identity.update_department(session, _actor(db, "admin"), "DSJ", DepartmentUpdate(parent_code="MZ"))
    assert cycle.value.errors[0].field == "parent_code"
    with db.transaction() as session:
        changed = identity.update_department(
            session, _actor(db, "admin"), "MZ", DepartmentUpdate(division_code="990102")
        )
        assert (changed.code, changed.division_code) == ("MZ", "990102")
    [entry] = updates(db)
    assert entry.detail == {"division_code": {"before": "990100", "after": "990102"}}


@pytest.mark.usefixtures("cli_env")
def test_dept_edit_command(db: Database) -> None:
    factories.city(db)
    runner = CliRunner()
    result = runner.invoke(cli_app, ["dept", "edit", "MZ", "--name", "测试市民政事务局", "--parent", "GA"])
    assert result.exit_code == 0, result.output
    assert "已修改部门 MZ 测试市民政事务局" in result.output
    result = runner.invoke(cli_app, ["dept", "edit", "MZ", "--parent", "", "--level", "区", "--json"])
    assert result.exit_code == 0, result.output
    assert '"parent_code": null' in result.output and '"level": "county"' in result.output
    assert [e.detail for e in updates(db)] == [
        {
            "name": {"before": "测试市民政局", "after": "测试市民政事务局"},
            "parent_code": {"before": "DSJ", "after": "GA"},
        },
        {"level": {"before": "city", "after": "county"}, "parent_code": {"before": "GA", "after": None}},
    ]

    cycle = runner.invoke(cli_app, ["dept", "edit", "DSJ", "--parent", "GA"])
    assert cycle.exit_code == 1 and "不能作为上级部门" in cycle.output
    nothing = runner.invoke(cli_app, ["dept", "edit", "DSJ"])
    assert nothing.exit_code == 2 and "请至少给出一个要修改的选项" in nothing.output
    bad = runner.invoke(cli_app, ["dept", "edit", "DSJ", "--division", "99"])
    assert bad.exit_code == 2 and "division_code" in bad.output
    assert len(updates(db)) == 2
    assert runner.invoke(cli_app, ["dept", "edit", "--help"]).exit_code == 0

"""Catalog as code: idempotent apply, export that applies back unchanged, the CLI."""

from __future__ import annotations

import pytest
import yaml
from sqlalchemy import func, select
from typer.testing import CliRunner

from govshare.catalog import service
from govshare.cli.main import app
from govshare.core.db import Database
from govshare.errors import InvalidInput
from govshare.models import AuditEntry, ResourceVersion
from govshare.settings import get_settings
from tests import factories
from tests.catalog.helpers import MARRIAGE, POPULATION, TAX, apply, definition


def _counts(db: Database) -> tuple[int, int]:
    with db.transaction(readonly=True) as session:
        return (
            session.scalar(select(func.count()).select_from(ResourceVersion)) or 0,
            session.scalar(select(func.count()).select_from(AuditEntry)) or 0,
        )


def test_applying_twice_changes_nothing(db: Database) -> None:
    factories.city(db)
    first = apply(db, POPULATION, MARRIAGE, TAX)
    assert (first.created, first.published) == (3, 3)
    before = _counts(db)
    second = apply(db, POPULATION, MARRIAGE, TAX)
    assert (second.created, second.updated, second.unchanged, second.published) == (0, 0, 3, 0)
    assert _counts(db) == before
    assert [o.code for o in second.resources] == [o.code for o in first.resources]


def test_a_change_makes_a_new_version_and_keeps_the_code(db: Database) -> None:
    factories.city(db)
    code = apply(db, MARRIAGE).resources[0].code
    changed = apply(db, definition(MARRIAGE, summary="结婚、离婚登记信息（含涉外婚姻）。"))
    assert (changed.updated, changed.resources[0].code) == (1, code)
    with db.transaction(readonly=True) as session:
        versions = session.scalars(select(ResourceVersion.state).order_by(ResourceVersion.number)).all()
    assert versions == ["superseded", "published"]


def test_export_applies_back_unchanged(db: Database) -> None:
    factories.city(db)
    apply(db, POPULATION, MARRIAGE, TAX)
    with db.transaction(readonly=True) as session:
        exported = service.export_definitions(session, factories.SYSTEM)
    assert {d["share"]["type"] for d in exported} == {"有条件共享", "无条件共享", "不予共享"}
    before = _counts(db)
    report = apply(db, *exported)
    assert report.unchanged == 3
    assert _counts(db) == before


def test_drafts_apply_without_publishing(db: Database) -> None:
    factories.city(db)
    report = apply(db, POPULATION, publish=False)
    assert (report.created, report.published, report.resources[0].code) == (1, 0, None)
    assert apply(db, POPULATION, publish=False).unchanged == 1
    assert apply(db, POPULATION).published == 1  # publishing the unchanged draft later


@pytest.mark.usefixtures("cli_env")
def test_cli_apply_and_export(db: Database, tmp_path: pytest.TempPathFactory) -> None:
    factories.city(db)
    path = tmp_path / "catalog.yaml"  # type: ignore[operator]
    path.write_text(yaml.safe_dump({"resources": [MARRIAGE, TAX]}, allow_unicode=True), encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(app, ["catalog", "apply", str(path), "--publish"])
    assert result.exit_code == 0, result.output
    assert "新建 2" in result.output
    result = runner.invoke(app, ["catalog", "apply", str(path), "--publish"])
    assert "未变 2" in result.output
    bad = tmp_path / "bad.yaml"  # type: ignore[operator]
    bad.write_text("resources:\n  - name: 缺字段\n", encoding="utf-8")
    result = runner.invoke(app, ["catalog", "apply", str(bad)])
    assert result.exit_code == 2
    assert "provider" in result.output
    result = runner.invoke(app, ["catalog", "export", "--format", "json"])
    assert "婚姻登记信息" in result.output
    get_settings.cache_clear()


def test_related_codes_must_be_published_resources(db: Database) -> None:
    factories.city(db)
    code = apply(db, MARRIAGE).resources[0].code
    with pytest.raises(InvalidInput) as caught:
        apply(db, definition(TAX, related=["999999-000001"]))
    assert [(e.field, e.message) for e in caught.value.errors] == [
        ("resources[0].related[0]", "关联资源代码“999999-000001”不存在或未发布")
    ]
    assert apply(db, definition(TAX, related=[code])).published == 1

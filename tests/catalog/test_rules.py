"""Every catalog rule, with its Chinese message naming the field; jurisdiction configuration changes them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from govshare.catalog import rules
from govshare.catalog.content import normalize
from govshare.catalog.schemas import ResourceDefinition
from govshare.core.db import Database
from govshare.errors import InvalidInput
from govshare.jurisdiction import CatalogRules, load_jurisdiction
from govshare.settings import Settings
from tests import factories
from tests.catalog.helpers import MARRIAGE, POPULATION, TAX, apply, definition

DEFAULT = CatalogRules()


def violations(data: dict[str, Any], cat_rules: CatalogRules = DEFAULT, **kwargs: Any) -> dict[str, str]:
    content = normalize(ResourceDefinition.model_validate(data), cat_rules)
    return {e.field: e.message for e in rules.check(content, cat_rules, **kwargs)}


def test_valid_definitions_pass() -> None:
    for data in (POPULATION, MARRIAGE, TAX):
        assert violations(data) == {}


def test_conditional_needs_its_conditions() -> None:
    data = definition(POPULATION, share={"type": "有条件", "condition": "", "methods": ["接口"]})
    assert violations(data) == {"share.condition": "有条件共享须写明共享条件（向哪些部门、在什么条件下提供）"}


def test_not_shared_needs_a_legal_basis() -> None:
    assert "不予共享须注明法律" in violations(definition(TAX, legal_basis=""))["legal_basis"]


def test_base_items_of_base_resources_must_be_unconditional_unless_overridden() -> None:
    data = definition(POPULATION)
    data["items"][1]["share"] = None  # inherits 有条件 from the resource
    found = violations(data)
    assert found == {"items[1].share": "“姓名”是人口基础信息资源的基础信息项，须无条件共享"}
    assert violations(data, overrides={rules.BASE_ITEMS_UNCONDITIONAL}) == {}
    # 社会信用 is not among the kinds bound by the rule
    credit = definition(data, classification={**data["classification"], "kind": "社会信用"})
    assert violations(credit) == {}


def test_grade_is_at_least_the_strictest_item() -> None:
    data = definition(MARRIAGE, grade="一般")
    assert "不能低于其信息项的最高级别（“男方公民身份号码”为重要，就高从严）" in violations(data)["grade"]
    # without a grade the resource takes the strictest item's grade
    assert normalize(ResourceDefinition.model_validate(MARRIAGE), DEFAULT)["grade"] == "important"


def test_items_rules() -> None:
    data = definition(MARRIAGE)
    data["items"].append({"name": "登记日期", "field": "djzzh", "type": "C"})
    found = violations(data)
    assert found["items[3].field"] == "字段名“djzzh”与第 1 个信息项重复"
    assert found["items[3].name"] == "信息项名称“登记日期”与第 2 个信息项重复"
    assert found["items[3].length"] == "字符型信息项须填写长度"
    no_key = definition(MARRIAGE)
    no_key["items"][0]["key"] = False
    assert violations(no_key) == {"items": "至少需要一个主键信息项（用于按主键查询与更新）"}


def test_classification_and_related() -> None:
    theme = definition(MARRIAGE, classification={**MARRIAGE["classification"], "theme": "娱乐"})
    assert "主题信息资源须选择主题" in violations(theme)["classification.theme"]
    base = definition(POPULATION, classification={**POPULATION["classification"], "kind": None})
    assert "基础信息资源须注明类别" in violations(base)["classification.kind"]
    related = definition(MARRIAGE, related=["101001-000009"])
    assert violations(related, existing_codes={"101001-000001"}) == {
        "related[0]": "关联资源代码“101001-000009”不存在或未发布"
    }


def test_vocabulary_accepts_chinese_labels_and_rejects_nonsense() -> None:
    parsed = ResourceDefinition.model_validate(definition(MARRIAGE, update_cycle="每季度"))
    assert parsed.update_cycle.value == "quarterly"
    with pytest.raises(ValidationError, match="不是有效取值"):
        ResourceDefinition.model_validate(definition(MARRIAGE, update_cycle="每两天"))
    with pytest.raises(InvalidInput, match="不是有效的安全级别"):
        normalize(ResourceDefinition.model_validate(definition(MARRIAGE, grade="绝密")), DEFAULT)


def test_jurisdiction_changes_the_rules(tmp_path: Path) -> None:
    path = tmp_path / "jurisdiction.yaml"
    path.write_text(
        "name: 示例省\ncatalog:\n  name_max_length: 10\n  conditional_requires_basis: true\n"
        "  grades:\n    - {code: L1, label: L1 不敏感}\n    - {code: L2, label: L2 低敏感}\n"
        "    - {code: L3, label: L3 较敏感}\n    - {code: L4, label: L4 敏感}\n",
        encoding="utf-8",
    )
    cat_rules = load_jurisdiction(path).catalog
    data = definition(POPULATION, name="全市户籍人口与常住人口基本信息", grade="L3 较敏感")
    for item in data["items"]:
        item["grade"] = "L2"
    found = violations(data, cat_rules)
    assert found == {
        "name": "信息资源名称不能超过 10 个字符",
        "legal_basis": "本辖区规定：有条件共享须注明依据",
    }
    with pytest.raises(ValueError, match="辖区配置文件"):
        load_jurisdiction(tmp_path / "missing.yaml")


def test_a_node_refuses_an_invalid_jurisdiction_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("catalog:\n  grades: [{code: A, label: 一}, {code: A, label: 二}]\n", encoding="utf-8")
    settings = Settings(_env_file=None, jurisdiction_file=path)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="不能重复"):
        Database.from_settings(settings)


def test_rules_are_enforced_when_publishing_and_nothing_is_half_applied(db: Database) -> None:
    factories.city(db)
    bad = definition(TAX, legal_basis="")
    with pytest.raises(InvalidInput) as caught:
        apply(db, MARRIAGE, bad)
    assert [e.field for e in caught.value.errors] == ["resources[1].legal_basis"]
    report = apply(db, MARRIAGE)
    assert (report.created, report.published) == (1, 1)  # the failed batch left nothing behind


def test_jurisdiction_base_kind_codes_are_the_catalog_base_kinds() -> None:
    """jurisdiction.py spells the base kinds out (the kernel imports no domain); they must not drift."""
    from typing import get_args

    from govshare.catalog.vocabulary import BaseKind
    from govshare.jurisdiction import BaseKindCode

    assert set(get_args(BaseKindCode)) == {kind.value for kind in BaseKind}


def test_jurisdiction_refuses_an_unknown_base_kind() -> None:
    with pytest.raises(ValidationError):
        CatalogRules.model_validate({"base_unconditional_kinds": ["population", "weather"]})

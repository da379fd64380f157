"""The catalog's business rules (国发〔2016〕51号, 国务院令第809号, 编制指南), with Chinese messages
naming the field. Which rules apply and their limits come from the jurisdiction (`CatalogRules`)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from govshare.catalog.content import Content
from govshare.catalog.vocabulary import THEMES, BaseKind, Category, DataType, ShareType
from govshare.errors import FieldError
from govshare.jurisdiction import CatalogRules

# Rules a platform admin may override with a recorded reason.
BASE_ITEMS_UNCONDITIONAL = "base_items_unconditional"
OVERRIDABLE = {BASE_ITEMS_UNCONDITIONAL: "基础信息资源的基础信息项须无条件共享"}


def check(
    content: Content,
    rules: CatalogRules,
    *,
    overrides: Collection[str] = (),
    existing_codes: Collection[str] | None = None,
) -> list[FieldError]:
    """Every violation of `content`, each naming its field; empty when the resource may be published."""
    errors: list[FieldError] = []

    def fail(field: str, message: str) -> None:
        errors.append(FieldError(field, message))

    if len(content["name"]) > rules.name_max_length:
        fail("name", f"信息资源名称不能超过 {rules.name_max_length} 个字符")
    if len(content["summary"]) > rules.summary_max_length:
        fail("summary", f"摘要不能超过 {rules.summary_max_length} 个字符")
    if not content["summary"].strip():
        fail("summary", "请填写信息资源摘要")

    c = content["classification"]
    if c["category"] == Category.BASE and not c["kind"]:
        fail(
            "classification.kind",
            "基础信息资源须注明类别（人口、法人、自然资源和空间地理、社会信用、电子证照）",
        )
    if c["category"] != Category.BASE and c["kind"]:
        fail("classification.kind", "只有基础信息资源才填写基础类别")
    if c["category"] == Category.THEME and c["theme"] not in THEMES:
        fail("classification.theme", f"主题信息资源须选择主题：{'、'.join(THEMES)}")

    share = content["share"]
    if share["type"] == ShareType.CONDITIONAL:
        if not share["condition"].strip():
            fail("share.condition", "有条件共享须写明共享条件（向哪些部门、在什么条件下提供）")
        if rules.conditional_requires_basis and not content["legal_basis"].strip():
            fail("legal_basis", "本辖区规定：有条件共享须注明依据")
    if share["type"] == ShareType.NONE and not content["legal_basis"].strip():
        fail("legal_basis", "不予共享须注明法律、行政法规或党中央、国务院政策依据")
    if share["type"] != ShareType.NONE and not share["methods"]:
        fail("share.methods", "请选择共享方式")
    if content["open"]["open"] and share["type"] == ShareType.NONE:
        fail("open.open", "不予共享的信息资源不能向社会开放")

    items = content["items"]
    _check_items(items, rules, fail)

    base_rule_applies = c["category"] == Category.BASE and c["kind"] in set(rules.base_unconditional_kinds)
    if base_rule_applies and BASE_ITEMS_UNCONDITIONAL not in overrides:
        kind = BaseKind(c["kind"]).label
        for i, item in enumerate(items):
            effective = item["share"] or share["type"]
            if item["base"] and effective != ShareType.UNCONDITIONAL:
                fail(f"items[{i}].share", f"“{item['name']}”是{kind}基础信息资源的基础信息项，须无条件共享")

    strictest = max(items, key=lambda item: rules.grade_rank(item["grade"]), default=None)
    if strictest is not None and rules.grade_rank(content["grade"]) < rules.grade_rank(strictest["grade"]):
        fail(
            "grade",
            f"信息资源的安全级别不能低于其信息项的最高级别（“{strictest['name']}”为"
            f"{rules.grade_label(strictest['grade'])}，就高从严）",
        )

    if existing_codes is not None:
        for i, code in enumerate(content["related"]):
            if code not in existing_codes:
                fail(f"related[{i}]", f"关联资源代码“{code}”不存在或未发布")
    return errors


def _check_items(items: list[dict[str, Any]], rules: CatalogRules, fail: Any) -> None:
    if not items:
        fail("items", "至少需要一个信息项")
    seen_fields: dict[str, int] = {}
    seen_names: dict[str, int] = {}
    for i, item in enumerate(items):
        if item["field"] in seen_fields:
            fail(
                f"items[{i}].field",
                f"字段名“{item['field']}”与第 {seen_fields[item['field']] + 1} 个信息项重复",
            )
        seen_fields.setdefault(item["field"], i)
        if item["name"] in seen_names:
            fail(
                f"items[{i}].name",
                f"信息项名称“{item['name']}”与第 {seen_names[item['name']] + 1} 个信息项重复",
            )
        seen_names.setdefault(item["name"], i)
        if item["type"] == DataType.C and not item["length"]:
            fail(f"items[{i}].length", "字符型信息项须填写长度")
    if items and not any(item["key"] for item in items):
        fail("items", "至少需要一个主键信息项（用于按主键查询与更新）")

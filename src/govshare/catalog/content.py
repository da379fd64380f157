"""A resource's content in one canonical form (codes, not labels; grades resolved; defaults filled), used to
store versions, compare them (idempotent apply, diffs) and write them back out."""

from __future__ import annotations

from typing import Any

from govshare.catalog.schemas import ResourceDefinition
from govshare.catalog.vocabulary import (
    BaseKind,
    Category,
    FormatCategory,
    MaskRule,
    ShareMethod,
    ShareType,
    UpdateCycle,
)
from govshare.errors import FieldError, InvalidInput
from govshare.jurisdiction import CatalogRules
from govshare.models import ResourceItem, ResourceVersion

Content = dict[str, Any]


def _grade(rules: CatalogRules, value: str | None, default: str, path: str, errors: list[FieldError]) -> str:
    if value is None or value == "":
        return default
    try:
        return rules.grade_code(value)
    except ValueError as exc:
        errors.append(FieldError(path, str(exc)))
        return default


def normalize(definition: ResourceDefinition, rules: CatalogRules) -> Content:
    """Canonical content of a definition. Unknown grades are input errors (they are part of the
    vocabulary); business rules are checked separately (`rules.check`)."""
    errors: list[FieldError] = []
    lowest = rules.grades[0].code
    items = []
    for i, item in enumerate(definition.items):
        items.append(
            {
                "name": item.name,
                "field": item.field,
                "type": item.type.value,
                "length": item.length,
                "key": item.key,
                "nullable": item.nullable and not item.key,  # a key item is never empty
                "base": item.base,
                "share": item.share.value if item.share else None,
                "grade": _grade(rules, item.grade, lowest, f"items[{i}].grade", errors),
                "mask": item.mask.value,
                "standard": item.standard or None,
            }
        )
    strictest = max((rules.grade_rank(str(i["grade"])) for i in items), default=0)
    grade = _grade(rules, definition.grade, rules.grades[strictest].code, "grade", errors)
    if errors:
        raise InvalidInput("；".join(f"{e.field}：{e.message}" for e in errors), errors=errors)
    c = definition.classification
    return {
        "name": definition.name,
        "provider": definition.provider,
        "summary": definition.summary,
        "classification": {
            "category": c.category.value,
            "kind": c.kind.value if c.kind else None,
            "theme": c.theme or None,
            "class": c.class_code,
            "item": c.item,
            "catalog": c.catalog,
            "detail": c.detail or None,
        },
        "format": {"category": definition.format.category.value, "type": definition.format.type},
        "share": {
            "type": definition.share.type.value,
            "condition": definition.share.condition,
            "methods": [m.value for m in definition.share.methods],
        },
        "open": {"open": definition.open.open, "condition": definition.open.condition or None},
        "update_cycle": definition.update_cycle.value,
        "legal_basis": definition.legal_basis,
        "grade": grade,
        "related": list(definition.related),
        "system": definition.system or None,
        "items": items,
    }


def of_version(version: ResourceVersion, provider_code: str) -> Content:
    return {
        "name": version.name,
        "provider": provider_code,
        "summary": version.summary,
        "classification": {
            "category": version.category,
            "kind": version.base_kind,
            "theme": version.theme,
            "class": version.class_code,
            "item": version.item_code,
            "catalog": version.catalog_code,
            "detail": version.detail_code,
        },
        "format": {"category": version.format_category, "type": version.format_type},
        "share": {
            "type": version.share_type,
            "condition": version.share_condition,
            "methods": list(version.share_methods),
        },
        "open": {"open": version.open_to_public, "condition": version.open_condition or None},
        "update_cycle": version.update_cycle,
        "legal_basis": version.legal_basis,
        "grade": version.security_grade,
        "related": list(version.related_codes),
        "system": version.system_code,
        "items": [
            {
                "name": item.name,
                "field": item.field_name,
                "type": item.data_type,
                "length": item.length,
                "key": item.is_key,
                "nullable": item.nullable,
                "base": item.is_base,
                "share": item.share_type,
                "grade": item.security_grade,
                "mask": item.mask_rule,
                "standard": item.standard_ref,
            }
            for item in version.items
        ],
    }


def write(version: ResourceVersion, content: Content) -> None:
    """Set a version's fields and items from canonical content."""
    c = content["classification"]
    version.name = content["name"]
    version.summary = content["summary"]
    version.category, version.base_kind, version.theme = c["category"], c["kind"], c["theme"]
    version.class_code, version.item_code, version.catalog_code, version.detail_code = (
        c["class"],
        c["item"],
        c["catalog"],
        c["detail"],
    )
    version.format_category, version.format_type = content["format"]["category"], content["format"]["type"]
    version.share_type = content["share"]["type"]
    version.share_condition = content["share"]["condition"]
    version.share_methods = list(content["share"]["methods"])
    version.open_to_public, version.open_condition = (
        content["open"]["open"],
        content["open"]["condition"] or "",
    )
    version.update_cycle = content["update_cycle"]
    version.legal_basis = content["legal_basis"]
    version.security_grade = content["grade"]
    version.related_codes = list(content["related"])
    version.system_code = content["system"]
    version.items = [
        ResourceItem(
            position=i,
            name=item["name"],
            field_name=item["field"],
            data_type=item["type"],
            length=item["length"],
            is_key=item["key"],
            nullable=item["nullable"],
            is_base=item["base"],
            share_type=item["share"],
            security_grade=item["grade"],
            mask_rule=item["mask"],
            standard_ref=item["standard"],
        )
        for i, item in enumerate(content["items"])
    ]


def same(a: Content, b: Content) -> bool:
    """Equal content, where an empty open condition and a missing one are the same."""
    return _comparable(a) == _comparable(b)


def _comparable(content: Content) -> Content:
    copy = dict(content)
    copy["open"] = {"open": content["open"]["open"], "condition": content["open"]["condition"] or None}
    return copy


_LABELLED = {
    ("classification", "category"): Category,
    ("classification", "kind"): BaseKind,
    ("format", "category"): FormatCategory,
    ("share", "type"): ShareType,
}


def to_definition(content: Content, rules: CatalogRules, code: str | None) -> dict[str, Any]:
    """Content as people write it: Chinese labels, grade names; the shape of docs/catalog-as-code.md."""
    out: dict[str, Any] = {"name": content["name"], "provider": content["provider"]}
    if code:
        out["code"] = code
    out["summary"] = content["summary"]
    classification = {k: v for k, v in content["classification"].items() if v is not None}
    classification["category"] = Category(classification["category"]).label
    if "kind" in classification:
        classification["kind"] = BaseKind(classification["kind"]).label
    out["classification"] = classification
    out["format"] = {
        "category": FormatCategory(content["format"]["category"]).label,
        "type": content["format"]["type"],
    }
    share: dict[str, Any] = {"type": ShareType(content["share"]["type"]).label}
    if content["share"]["condition"]:
        share["condition"] = content["share"]["condition"]
    share["methods"] = [ShareMethod(m).label for m in content["share"]["methods"]]
    out["share"] = share
    out["open"] = {"open": content["open"]["open"], "condition": content["open"]["condition"]}
    out["update_cycle"] = UpdateCycle(content["update_cycle"]).label
    if content["legal_basis"]:
        out["legal_basis"] = content["legal_basis"]
    out["grade"] = rules.grade_label(content["grade"])
    if content["related"]:
        out["related"] = content["related"]
    if content["system"]:
        out["system"] = content["system"]
    items = []
    for item in content["items"]:
        entry: dict[str, Any] = {"name": item["name"], "field": item["field"], "type": item["type"]}
        if item["length"] is not None:
            entry["length"] = item["length"]
        entry["key"] = item["key"]
        entry["nullable"] = item["nullable"]
        if item["base"]:
            entry["base"] = True
        if item["share"]:
            entry["share"] = ShareType(item["share"]).label
        entry["grade"] = rules.grade_label(item["grade"])
        entry["mask"] = MaskRule(item["mask"]).label
        if item["standard"]:
            entry["standard"] = item["standard"]
        items.append(entry)
    out["items"] = items
    return out

"""From a mapping and the resource's published catalog items to the transform's `Plan`: which validator runs
on each item (the mapping's, else what the item's data type or standard implies), which code table, which
key and cursor. Every mistake in the mapping is reported at once, naming the mapping field."""

from __future__ import annotations

from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from govshare.collection.mapping import Mapping
from govshare.collection.readers.base import ORD
from govshare.collection.transform import ItemPlan, Plan, transform
from govshare.errors import FieldError, GovshareError, InvalidInput
from govshare.models import CodeSet, ResourceItem, ResourceVersion
from govshare.standards import readers as standards
from govshare.standards import registry

# Standards that name a validator rather than a code set.
STANDARD_VALIDATORS = {"GB 11643": "id_number", "GB 32100": "uscc"}
# What runs on an item whose mapping names no validator, by data type.
TYPE_VALIDATORS = {"D": "date", "N": "number", "Y": "number", "F": "number", "I": "number"}


def _code_set_key(session: Session, reference: str | None) -> str | None:
    if not reference:
        return None
    found = standards.resolve_standard_ref(session, reference)
    if isinstance(found, CodeSet):
        return found.code
    code_set = getattr(found, "code_set", None)  # a data element with a value domain
    return code_set.code if isinstance(code_set, CodeSet) else None


def build_plan(
    session: Session, version: ResourceVersion, mapping: Mapping
) -> tuple[Plan, list[ResourceItem]]:
    """The plan, and the catalog items it fills (every item of the version, mapped or not).

    The code sets are read with `standards.readers` (no actor): they are reference data, and resolving them
    is part of the collection action the caller was already authorized for (a pushing system's key may
    hold collection:push alone), so no catalog:read grant is needed or forged."""
    items = {item.field_name: item for item in version.items}
    errors: list[FieldError] = []
    for name in mapping.columns:
        if name not in items:
            errors.append(
                FieldError(
                    f"columns.{name}", f"资源“{version.name}”没有信息项 {name}（可用：{'、'.join(items)}）"
                )
            )
    key = mapping.key or [i.field_name for i in version.items if i.is_key]
    if not key:
        errors.append(FieldError("key", "目录中该资源没有主键信息项，映射须用 key 指定"))
    for name in key:
        if name not in mapping.columns and name in items:
            errors.append(FieldError("key", f"主键 {name} 未在 columns 中映射"))
        elif name not in items:
            errors.append(FieldError("key", f"主键 {name} 不是该资源的信息项"))
    if mapping.cursor and mapping.cursor not in mapping.columns:
        errors.append(FieldError("cursor", f"游标 {mapping.cursor} 须是 columns 中映射的信息项"))
    plans: list[ItemPlan] = []
    for name, spec in mapping.columns.items():
        item = items.get(name)
        if item is None:
            continue
        validator = spec.validate_ or STANDARD_VALIDATORS.get((item.standard_ref or "").strip())
        options: dict[str, object] = {}
        code_set = spec.code_set or (None if validator else _code_set_key(session, item.standard_ref))
        if validator is None and code_set:
            validator = "code"
        if validator is None:
            validator = TYPE_VALIDATORS.get(item.data_type)
        if validator == "code":
            if not code_set:
                errors.append(
                    FieldError(f"columns.{name}.code_set", "代码集校验须指定代码集（或在目录中填写标准）")
                )
                continue
            try:
                check = standards.prepare_check(session, "code", code_set=code_set, include_abolished=True)
            except GovshareError as exc:  # an unknown code set (NotFound) or a bad option
                errors.append(FieldError(f"columns.{name}.code_set", exc.message))
                continue
            options = check.options
        elif validator == "number" and spec.units is not None:
            options["units"] = tuple(spec.units)
        plans.append(
            ItemPlan(
                field=name,
                label=item.name,
                data_type=item.data_type,
                source=spec.source or name,
                length=item.length if item.data_type == "C" else None,
                required=spec.required if spec.required is not None else (not item.nullable or name in key),
                normalize=tuple(spec.normalize),
                value_map=dict(spec.map),
                map_only=spec.map_only,
                default=spec.default,
                check=registry.get(validator) if validator else None,
                check_options=options,
                divide_by=spec.divide_by,
            )
        )
    warnings: list[tuple[str, str, str]] = []
    id_items = [p.field for p in plans if p.check is not None and p.check.name == "id_number"]
    for consistency in mapping.warnings:
        wanted = "D" if consistency == "birth_vs_id" else "C"
        candidates = [
            p.field
            for p in plans
            if (consistency == "sex_vs_id" and "2261.1" in (items[p.field].standard_ref or ""))
            or (consistency == "birth_vs_id" and p.data_type == wanted)
        ]
        if not id_items or not candidates:
            what = "性别（标准 GB/T 2261.1）" if consistency == "sex_vs_id" else "出生日期（日期型）"
            errors.append(
                FieldError("warnings", f"{consistency} 需要映射公民身份号码（id_number 校验）和{what}信息项")
            )
            continue
        warnings.append((consistency, candidates[0], id_items[0]))
    if errors:
        raise InvalidInput(
            "映射与目录不符：" + "；".join(f"{e.field}：{e.message}" for e in errors), errors=errors
        )
    deleted_values = tuple(mapping.deleted.values) if mapping.deleted else ()
    plan = Plan(
        items=tuple(plans),
        key=tuple(key),
        cursor=mapping.cursor,
        deleted_column=mapping.deleted.column if mapping.deleted else None,
        deleted_values=deleted_values,
        warnings=tuple(warnings),
    )
    return plan, list(version.items)


def lookup_values(version: ResourceVersion, where: dict[str, str]) -> dict[str, Any]:
    """Look-up values (`govshare records --where`) as collection stores them: each through its item's
    validator and type (a 15-digit 公民身份号码 becomes its 18-digit form, a date in any accepted form a
    date). A value the validator refuses is an error naming the item."""
    items = {item.field_name: item for item in version.items}
    values: dict[str, Any] = {}
    errors: list[FieldError] = []
    for name, raw in where.items():
        item = items.get(name)
        if item is None:
            values[name] = raw
            continue
        validator = STANDARD_VALIDATORS.get((item.standard_ref or "").strip()) or TYPE_VALIDATORS.get(
            item.data_type
        )
        step = ItemPlan(
            field=name,
            label=item.name,
            data_type=item.data_type,
            source=name,
            check=registry.get(validator) if validator else None,
        )
        frame = pl.DataFrame({name: [raw], ORD: [1]}, schema={name: pl.String, ORD: pl.Int64})
        result = transform(frame, Plan(items=(step,), key=(name,)), [name])
        if result.rejected.height:
            errors.append(FieldError(f"where.{name}", str(result.rejected.get_column("message")[0])))
        elif result.good.height:
            values[name] = result.good.get_column(name)[0]
        else:
            values[name] = None
    if errors:
        raise InvalidInput("；".join(e.message for e in errors), errors=errors)
    return values

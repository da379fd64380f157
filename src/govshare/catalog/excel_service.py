"""The Excel template (目录编制模板) as service actions: download it, export the published catalog into
it, and import a filled one — all or nothing, every error named by sheet, row and column
(「信息项」第 7 行「共享类型」).

An import checks everything before writing anything: the workbook's structure, each definition
(`ResourceDefinition`, the same validation as the API and catalog-as-code files), grades, the business rules
(`rules.check`, as at submission) and the provider departments; then `service.apply_definitions` writes, in a
savepoint, so that a late error still leaves nothing behind.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.auth.guard import action, require_scope
from govshare.auth.permissions import Permission
from govshare.catalog import content, excel, policies, rules, service
from govshare.catalog.repository import OPEN_STATES, CatalogRepository
from govshare.catalog.schemas import ApplyReport, ResourceDefinition
from govshare.core.node import node_config
from govshare.errors import DenialContext, InvalidInput, PayloadTooLarge, PermissionDenied
from govshare.jurisdiction import CatalogRules
from govshare.models import Department

TOO_LARGE = f"Excel 文件不能超过 {excel.MAX_UPLOAD_BYTES // 1024 // 1024} MB，请拆分为多个文件导入"


def _rules(session: Session) -> CatalogRules:
    return node_config(session).jurisdiction.catalog


def _grades(session: Session) -> list[str]:
    return [grade.label for grade in _rules(session).grades]


def _invalid(errors: excel.ErrorList) -> InvalidInput:
    listed = errors.as_list()
    summary = "；".join(str(e) for e in listed[:5]) + ("……" if len(listed) > 5 else "")
    return InvalidInput(
        f"Excel 文件有 {len(errors)} 处错误，未导入任何内容：{summary}",
        errors=[e.to_field_error() for e in listed],
    )


@action(Permission.CATALOG_READ)
def template(session: Session, actor: Actor) -> bytes:
    """The empty template, with this jurisdiction's security grades in its drop-downs."""
    return excel.build_template([], _grades(session))


@action(Permission.CATALOG_READ)
def export_workbook(session: Session, actor: Actor, department_code: str | None = None) -> bytes:
    """The published catalog (of one department, or all) in the template: edit it and import it back."""
    definitions = service.export_definitions(session, actor, department_code=department_code)
    return excel.build_template(definitions, _grades(session))


def _rules_to_check(
    repo: CatalogRepository,
    definition: ResourceDefinition,
    department: Department,
    normalized: content.Content,
    publish: bool,
) -> set[str] | None:
    """The overrides to check `normalized` with (rules a platform admin exempted on the open version it
    will update), or None when the row changes nothing (re-importing an export made before the rules
    changed must still be a no-op)."""
    resource = (
        repo.by_code(definition.code)
        if definition.code
        else repo.by_provider_and_name(department.id, definition.name)
    )
    if resource is None or not resource.versions:
        return set()
    pending = next((v for v in resource.versions if v.state in OPEN_STATES), None)
    base = pending or resource.versions[-1]
    if not publish and content.same(content.of_version(base, department.code), normalized):
        return None
    return {str(o["rule"]) for o in pending.overrides} if pending else set()


def _providers(
    session: Session, actor: Actor, entries: list[excel.SheetEntry], errors: excel.ErrorList
) -> dict[str, Department]:
    """The provider departments named in the workbook; the actor must be allowed to edit each one's
    catalog (a refusal is a 403 for the whole file, before any other error is reported)."""
    repo, found = CatalogRepository(session), {}
    for entry in entries:
        provider: Any = entry.definition.get("provider")
        if not isinstance(provider, str) or not provider or provider in found:
            continue
        department = repo.department(provider)
        if department is None:
            errors.add(
                excel.CellError(excel.RESOURCES, entry.row, "提供方代码", f"提供方部门“{provider}”不存在")
            )
            continue
        require_scope(
            actor,
            Permission.CATALOG_EDIT,
            department_id=department.id,
            action_name="catalog.import_workbook",
            target_type="department",
            target_id=provider,
        )
        found[provider] = department
    return found


def _duplicates(
    entries: list[excel.SheetEntry], definitions: list[ResourceDefinition | None]
) -> list[excel.CellError]:
    """Two rows naming the same resource would silently update one another."""
    seen: dict[tuple[str, str], int] = {}
    out = []
    for entry, definition in zip(entries, definitions, strict=True):
        if definition is None:
            continue
        keys = [("code", definition.code)] if definition.code else []
        keys.append((f"name:{definition.provider}", definition.name))
        for kind, value in keys:
            first = seen.setdefault((kind, value), entry.row)
            if first != entry.row:
                column, what = (
                    ("信息资源代码", "代码") if kind == "code" else ("信息资源名称", "提供方与名称")
                )
                out.append(
                    excel.CellError(
                        excel.RESOURCES,
                        entry.row,
                        column,
                        f"与第 {first} 行的信息资源{what}相同，同一资源只能填写一行",
                    )
                )
    return out


@action(Permission.CATALOG_EDIT)
def import_workbook(session: Session, actor: Actor, data: bytes, publish: bool = False) -> ApplyReport:
    """Create or update resources from a filled template; idempotent like `apply_definitions`. Nothing is
    written unless every row passes: otherwise InvalidInput lists every error by sheet, row and column."""
    if publish and not policies.publishes_directly(actor):
        raise PermissionDenied(
            "直接发布需要目录审核权限",
            context=DenialContext("catalog.import_workbook", Permission.CATALOG_REVIEW),
        )
    if len(data) > excel.MAX_UPLOAD_BYTES:
        raise PayloadTooLarge(TOO_LARGE)
    parsed = excel.read_workbook(data)
    errors = parsed.errors
    if not parsed.readable:
        raise _invalid(errors)

    entries = parsed.entries
    definitions: list[ResourceDefinition | None] = []
    for entry in entries:
        try:
            definitions.append(ResourceDefinition.model_validate(entry.definition))
        except ValidationError as exc:
            errors.extend(excel.validation_errors(entry, exc))
            definitions.append(None)
    departments = _providers(session, actor, entries, errors)
    errors.extend(_duplicates(entries, definitions))

    repo, cat_rules = CatalogRepository(session), _rules(session)
    existing_codes = repo.published_codes()
    for entry, definition in zip(entries, definitions, strict=True):
        department = departments.get(definition.provider) if definition else None
        if definition is None or department is None:
            continue
        try:
            normalized = content.normalize(definition, cat_rules)
        except InvalidInput as exc:
            errors.extend(excel.cell_error(entry, e.field, e.message) for e in exc.errors)
            continue
        overrides = _rules_to_check(repo, definition, department, normalized, publish)
        if overrides is None:
            continue
        found = rules.check(normalized, cat_rules, overrides=overrides, existing_codes=existing_codes)
        errors.extend(excel.cell_error(entry, e.field, e.message) for e in found)
    if errors:
        raise _invalid(errors)

    valid = [d for d in definitions if d is not None]
    with session.begin_nested():  # all or nothing, whoever commits the session afterwards
        try:
            return service.apply_definitions(session, actor, valid, publish=publish)
        except InvalidInput as exc:
            late = excel.ErrorList()
            late.extend(excel.apply_errors(entries, exc.errors))
            raise _invalid(late) from exc

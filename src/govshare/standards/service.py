"""数据标准: code sets with versions, data elements, and validating values against them.

Everyone who reads the catalog (catalog:read) reads the standards. Editing them (importing a code set or
a version, adding data elements) is a platform-administrator task; it is guarded by catalog:override
until a dedicated permission exists.
"""

from __future__ import annotations

from datetime import date

import polars as pl
from pydantic import ValidationError
from sqlalchemy.orm import Session

from govshare.audit import service as audit
from govshare.auth.actor import Actor
from govshare.auth.guard import action
from govshare.auth.permissions import Permission
from govshare.core.clock import utcnow
from govshare.core.validation import field_errors
from govshare.errors import Conflict, FieldError, InvalidInput, NotFound
from govshare.models import Code, CodeSet, CodeSetVersion, DataElement
from govshare.standards import importing, readers, registry, validators
from govshare.standards.policies import current_version, key_of
from govshare.standards.repository import StandardsRepository
from govshare.standards.schemas import (
    CodeOut,
    CodePage,
    CodeSetImport,
    CodeSetOut,
    DataElementCreate,
    ElementImportReport,
    ImportReport,
    ValidatedValue,
    ValidateRequest,
    ValidateResult,
    VersionOut,
)

READ = Permission.CATALOG_READ
# TODO(permissions): a dedicated standards:edit permission; platform admins hold catalog:override.
EDIT = Permission.STANDARDS_EDIT
MAX_PAGE = 1000


def _out(code_set: CodeSet) -> CodeSetOut:
    current = current_version(code_set.versions)
    return CodeSetOut(
        code=code_set.code,
        name=code_set.name,
        standard=code_set.standard,
        source=code_set.source,
        description=code_set.description,
        is_builtin=code_set.is_builtin,
        current_version=current.version if current else None,
        versions=[VersionOut.of(v, current) for v in code_set.versions],
    )


_code_set = readers.find_code_set
_version = readers.pick_version


@action(READ)
def list_code_sets(session: Session, actor: Actor) -> list[CodeSetOut]:
    return [_out(s) for s in StandardsRepository(session).code_sets()]


@action(READ)
def get_code_set(session: Session, actor: Actor, code: str) -> CodeSetOut:
    return _out(_code_set(StandardsRepository(session), code))


@action(READ)
def list_codes(
    session: Session,
    actor: Actor,
    code: str,
    *,
    version: str | None = None,
    at: date | None = None,
    query: str | None = None,
    after: int = 0,
    limit: int = 200,
) -> CodePage:
    """Codes of a version in the standard's order, a page at a time (keyset on position). `at` keeps
    only the codes in force that day (GB/T 2260 keeps abolished ones with their validity)."""
    repo = StandardsRepository(session)
    code_set = _code_set(repo, code)
    chosen = _version(code_set, version)
    limit = max(1, min(limit, MAX_PAGE))
    rows = repo.codes(chosen.id, at=at, query=query, after=after, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return CodePage(
        code_set=code_set.code,
        version=chosen.version,
        items=[CodeOut.of(c) for c in rows],
        next_after=rows[-1].position if more and rows else None,
    )


@action(READ)
def lookup_code(
    session: Session, actor: Actor, code: str, value: str, *, version: str | None = None
) -> list[Code]:
    """The codes whose code or name is `value` (several for a reused division code or a shared name)."""
    repo = StandardsRepository(session)
    chosen = _version(_code_set(repo, code), version)
    found = repo.codes_matching(chosen.id, value.strip())
    if not found:
        raise NotFound(f"代码集“{code}”（{chosen.version} 版）中没有“{value}”")
    return found


@action(READ)
def code_table(
    session: Session,
    actor: Actor,
    code: str,
    *,
    version: str | None = None,
    at: date | None = None,
    include_abolished: bool = False,
) -> validators.CodeTable:
    """The membership table for the `code` validator (`readers.code_table`)."""
    return readers.code_table(session, code, version=version, at=at, include_abolished=include_abolished)


@action(EDIT)
def import_code_set(session: Session, actor: Actor, data: bytes, meta: CodeSetImport) -> ImportReport:
    """A new code set, or a new version of one, from a CSV (UTF-8 or GBK) or .xlsx file. All or nothing:
    any row error refuses the whole file, listing the rows."""
    try:
        table = importing.read_table(data)
        codes, errors = importing.parse_codes(table)
    except importing.UnreadableFile as exc:
        raise InvalidInput.on("file", str(exc)) from None
    if errors:
        raise InvalidInput(errors.summary(), errors=errors.items)
    repo = StandardsRepository(session)
    code_set = repo.code_set(meta.code)
    created = code_set is None
    now = utcnow()
    if code_set is None:
        if not meta.name:
            raise InvalidInput.on("name", "新建代码集时须给出名称")
        code_set = CodeSet(
            code=meta.code,
            name=meta.name,
            standard=meta.standard,
            source=meta.source,
            description=meta.description,
            is_builtin=False,
            created_by=actor.name,
            created_at=now,
            updated_at=now,
        )
        code_set.versions = []
        repo.add_code_set(code_set)
    elif any(v.version == meta.version for v in code_set.versions):
        raise Conflict(f"代码集“{code_set.code}”已有版本“{meta.version}”；新版本请使用新的版本号")
    version = CodeSetVersion(
        code_set_id=code_set.id,
        version=meta.version,
        valid_from=meta.valid_from,
        valid_to=meta.valid_to,
        note=meta.note,
        code_count=len(codes),
        created_by=actor.name,
        created_at=now,
    )
    repo.add_version(version, codes)
    code_set.updated_at = now
    audit.record(
        session,
        actor,
        "standards.code_set.import",
        target_type="code_set",
        target_id=code_set.code,
        detail={"version": meta.version, "codes": len(codes), "new_code_set": created},
    )
    return ImportReport(
        code_set=code_set.code, version=meta.version, created_code_set=created, codes=len(codes)
    )


@action(READ)
def list_data_elements(session: Session, actor: Actor, query: str | None = None) -> list[DataElement]:
    return StandardsRepository(session).elements(query)


@action(READ)
def get_data_element(session: Session, actor: Actor, identifier: str) -> DataElement:
    element = StandardsRepository(session).element(identifier)
    if element is None:
        raise NotFound(f"数据元“{identifier}”不存在")
    return element


def _element_problems(repo: StandardsRepository, data: DataElementCreate) -> tuple[CodeSet | None, list[str]]:
    problems: list[str] = []
    code_set = None
    if data.code_set:
        code_set = repo.code_set(data.code_set) or repo.code_set(key_of(data.code_set))
        if code_set is None:
            problems.append(f"代码集“{data.code_set}”不存在")
        elif data.code_set_version and all(v.version != data.code_set_version for v in code_set.versions):
            problems.append(f"代码集“{code_set.code}”没有版本“{data.code_set_version}”")
    elif data.code_set_version:
        problems.append("给出了代码集版本却没有代码集")
    if data.validator:
        spec = registry.get(data.validator)
        if spec is None:
            problems.append(f"校验规则“{data.validator}”不存在，可选：{'、'.join(registry.VALIDATORS)}")
        elif spec.needs_code_set and code_set is None:
            problems.append("校验规则 code 需要代码集")
    return code_set, problems


def _new_element(actor: Actor, data: DataElementCreate, code_set: CodeSet | None) -> DataElement:
    now = utcnow()
    element = DataElement(
        identifier=data.identifier,
        name=data.name,
        definition=data.definition,
        data_type=data.data_type,
        length=data.length,
        code_set_id=code_set.id if code_set else None,
        code_set_version=data.code_set_version,
        validator=data.validator,
        standard_source=data.standard_source,
        version=data.version,
        status=data.status,
        created_by=actor.name,
        created_at=now,
        updated_at=now,
    )
    element.code_set = code_set
    return element


@action(EDIT)
def add_data_element(session: Session, actor: Actor, data: DataElementCreate) -> DataElement:
    repo = StandardsRepository(session)
    if repo.element(data.identifier):
        raise Conflict(f"数据元“{data.identifier}”已存在")
    code_set, problems = _element_problems(repo, data)
    if problems:
        raise InvalidInput("；".join(problems), errors=[FieldError("data_element", p) for p in problems])
    element = _new_element(actor, data, code_set)
    repo.add_element(element)
    audit.record(
        session,
        actor,
        "standards.data_element.add",
        target_type="data_element",
        target_id=data.identifier,
        detail={"name": data.name, "code_set": code_set.code if code_set else None},
    )
    return element


@action(EDIT)
def import_data_elements(session: Session, actor: Actor, data: bytes) -> ElementImportReport:
    """Data elements from a CSV or .xlsx file; all or nothing, like code sets."""
    try:
        rows, errors = importing.parse_elements(importing.read_table(data))
    except importing.UnreadableFile as exc:
        raise InvalidInput.on("file", str(exc)) from None
    repo = StandardsRepository(session)
    accepted: list[tuple[DataElementCreate, CodeSet | None]] = []
    seen: dict[str, int] = {}
    for line, fields in rows:
        try:
            element = DataElementCreate.model_validate(fields)
        except ValidationError as exc:
            for refused in field_errors(exc):
                errors.add(line, refused.field or None, refused.message)
            continue
        if element.identifier in seen:
            errors.add(line, "标识符", f"与第{seen[element.identifier]}行重复")
            continue
        seen[element.identifier] = line
        code_set, problems = _element_problems(repo, element)
        for problem in problems:
            errors.add(line, None, problem)
        accepted.append((element, code_set))
    for identifier in sorted(repo.existing_identifiers(list(seen))):
        errors.add(seen[identifier], "标识符", f"数据元“{identifier}”已存在")
    if errors:
        raise InvalidInput(errors.summary(), errors=errors.items)
    for element, code_set in accepted:
        repo.add_element(_new_element(actor, element, code_set))
    audit.record(
        session,
        actor,
        "standards.data_element.import",
        target_type="data_element",
        target_id=None,
        detail={"count": len(accepted)},
    )
    return ElementImportReport(created=len(accepted), identifiers=[e.identifier for e, _ in accepted])


@action(READ)
def resolve_standard_ref(session: Session, actor: Actor, reference: str) -> DataElement | CodeSet | None:
    """What a catalog item's `standard_ref` names (`readers.resolve_standard_ref`)."""
    return readers.resolve_standard_ref(session, reference)


ColumnCheck = readers.ColumnCheck


@action(READ)
def prepare_check(
    session: Session,
    actor: Actor,
    validator: str,
    *,
    code_set: str | None = None,
    code_set_version: str | None = None,
    include_abolished: bool = False,
    units: list[str] | None = None,
) -> ColumnCheck:
    """Resolve a validator name and its options (`readers.prepare_check`)."""
    return readers.prepare_check(
        session,
        validator,
        code_set=code_set,
        code_set_version=code_set_version,
        include_abolished=include_abolished,
        units=units,
    )


@action(READ)
def validate_values(session: Session, actor: Actor, request: ValidateRequest) -> ValidateResult:
    """Run a validator over a list of values (the vectorized implementation) and report each."""
    check = prepare_check(
        session,
        actor,
        request.validator,
        code_set=request.code_set,
        code_set_version=request.code_set_version,
        include_abolished=request.include_abolished,
        units=request.units,
    )
    frame = check.spec.check_column(pl.Series("v", request.values, dtype=pl.String), **check.options)
    results = []
    for raw, value, error, message in zip(
        request.values,
        frame.get_column("value").to_list(),
        frame.get_column("error").to_list(),
        frame.get_column("message").to_list(),
        strict=True,
    ):
        shown = value.isoformat() if isinstance(value, date) else value
        results.append(ValidatedValue(input=raw, value=shown, error=error, message=message))
    rejected = sum(1 for r in results if r.error)
    accepted = sum(1 for r in results if r.value is not None)
    return ValidateResult(
        validator=check.spec.name,
        total=len(results),
        accepted=accepted,
        rejected=rejected,
        blank=len(results) - accepted - rejected,
        results=results,
    )

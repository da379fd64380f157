"""Reference-data readers: code sets and data elements, for other domains' actions.

Code tables and standard references are reference data that collection needs while it builds a plan
for a batch the caller was already authorized to run (a pushing system's key may hold collection:push
alone). These functions take no actor and check nothing: they are called from inside another domain's
guarded action, instead of that action forging a catalog:read grant to call the guarded
`standards.service` actions, which delegate here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from govshare.errors import InvalidInput, NotFound
from govshare.models import CodeSet, CodeSetVersion, DataElement
from govshare.standards import registry, validators
from govshare.standards.policies import current_version, key_of
from govshare.standards.repository import StandardsRepository


def find_code_set(repo: StandardsRepository, code: str) -> CodeSet:
    """A code set by key or standard number ("GB/T 2261.1"); NotFound otherwise."""
    found = repo.code_set(code) or repo.code_set(key_of(code))
    if found is None:
        raise NotFound(f"代码集“{code}”不存在")
    return found


def pick_version(code_set: CodeSet, version: str | None) -> CodeSetVersion:
    """The named version, or the one in force today; NotFound otherwise."""
    if version is None:
        current = current_version(code_set.versions)
        if current is None:
            raise NotFound(f"代码集“{code_set.code}”没有现行版本")
        return current
    for candidate in code_set.versions:
        if candidate.version == version:
            return candidate
    raise NotFound(f"代码集“{code_set.code}”没有版本“{version}”")


def code_table(
    session: Session,
    code: str,
    *,
    version: str | None = None,
    at: date | None = None,
    include_abolished: bool = False,
) -> validators.CodeTable:
    """The membership table for the `code` validator: codes in force on `at` (default today), or every
    code the version ever had with `include_abolished` (old division codes in old records). Names,
    short names (男) and GB 3304 letter codes (HA) are accepted for their code."""
    repo = StandardsRepository(session)
    code_set = find_code_set(repo, code)
    chosen = pick_version(code_set, version)
    rows = repo.codes(chosen.id, at=None if include_abolished else (at or validators.today_in_beijing()))
    aliases: dict[str, str] = {}
    for row in rows:
        for key in ("short", "letter_code"):
            alias = (row.attributes or {}).get(key)
            if isinstance(alias, str) and alias:
                aliases[alias] = row.code
    latest: dict[str, str] = {}
    for row in sorted(rows, key=lambda r: r.valid_from or date.min):
        latest[row.code] = row.label
    # the name users read in messages: "人的性别代码（GB/T 2261.1-2003）", or the set's own key and version
    shown = (
        f"{code_set.name}（{code_set.standard}）"
        if code_set.standard
        else f"{code_set.code} {chosen.version}"
    )
    return validators.CodeTable.build(shown, latest.items(), aliases)


def resolve_standard_ref(session: Session, reference: str) -> DataElement | CodeSet | None:
    """What a catalog item's `standard_ref` names: a data element identifier, else a code set (by key or
    standard number, "GB/T 2261.1"); None when it names nothing known."""
    repo = StandardsRepository(session)
    return repo.element(reference) or repo.code_set(reference) or repo.code_set(key_of(reference))


@dataclass(frozen=True)
class ColumnCheck:
    """What `check_column` needs besides the values: the validator and its options."""

    spec: registry.ValidatorSpec
    options: dict[str, Any]


def prepare_check(
    session: Session,
    validator: str,
    *,
    code_set: str | None = None,
    code_set_version: str | None = None,
    include_abolished: bool = False,
    units: list[str] | None = None,
) -> ColumnCheck:
    """Resolve a validator name and its options (loading the code set for `code`)."""
    spec = registry.get(validator)
    if spec is None:
        raise InvalidInput.on(
            "validator", f"校验规则“{validator}”不存在，可选：{'、'.join(registry.VALIDATORS)}"
        )
    options: dict[str, Any] = {}
    if spec.needs_code_set:
        if not code_set:
            raise InvalidInput.on("code_set", "代码集校验须指定代码集")
        options["table"] = code_table(
            session, code_set, version=code_set_version, include_abolished=include_abolished
        )
    if units is not None:
        if spec.name != "number":
            raise InvalidInput.on("units", "只有 number 校验可以指定单位")
        try:
            validators.number_pattern(units)
        except ValueError:
            raise InvalidInput.on("units", "单位不能为空，也不能含空白或正则符号") from None
        options["units"] = tuple(units)
    return ColumnCheck(spec, options)

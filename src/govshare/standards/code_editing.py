"""Changing a code set one code at a time: the code set's current version with one code added or changed
becomes a new version (in force from the day given), through the service's import, so every earlier
version stays as it was and the change is audited like any import. Used by the portal's code-set page.

Refused (`Conflict`) for a built-in national code set, one with more than `EDITABLE_MAX_CODES` codes, and
one whose codes carry other attributes than a note (one code at a time would lose them): those change by
importing a file."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.auth.guard import action
from govshare.auth.permissions import Permission
from govshare.errors import Conflict, InvalidInput
from govshare.standards import service as standards
from govshare.standards.schemas import CodeOut, CodeSetImport

EDITABLE_MAX_CODES = 5000  # a larger code set changes by file import, not one code at a time


@action(Permission.STANDARDS_EDIT)
def current_codes(session: Session, actor: Actor, code: str) -> tuple[str, list[CodeOut]]:
    """Every code of the current version (for rewriting it as a new version), in order, with that
    version; it stops a page after `EDITABLE_MAX_CODES` (enough to know the set is too large)."""
    found: list[CodeOut] = []
    after, version = 0, ""
    while True:
        page = standards.list_codes(session, actor, code, after=after, limit=standards.MAX_PAGE)
        version = page.version
        found.extend(page.items)
        if page.next_after is None or len(found) > EDITABLE_MAX_CODES:
            return version, found
        after = page.next_after


def why_not_editable(codes: list[CodeOut], is_builtin: bool) -> str | None:
    """Why this code set cannot be changed one code at a time (None when it can)."""
    if is_builtin:
        return "内置的国家标准代码集不能在此逐条修改；如需调整，请导入新版本文件。"
    if len(codes) > EDITABLE_MAX_CODES:
        return f"代码超过 {EDITABLE_MAX_CODES} 条的代码集请以导入文件的方式修订。"
    if any(set(c.attributes) - {"note"} for c in codes):
        return (
            "该代码集的代码带有附加属性（如简称、字母代码），逐条修改会丢失这些属性，请以导入文件的方式修订。"
        )
    return None


def parse_day(value: str, name: str) -> date | None:
    """A date as typed (年-月-日), None for nothing; refused as the input of field `name` otherwise."""
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput.on(name, "日期格式应为 年-月-日，如 2026-05-01") from None


def codes_csv(codes: list[CodeOut]) -> bytes:
    """The codes as the import's CSV."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["代码", "名称", "上级代码", "排序", "生效日期", "失效日期", "备注"])
    for c in codes:
        writer.writerow(
            [
                c.code,
                c.label,
                c.parent_code or "",
                c.position,
                c.valid_from.isoformat() if c.valid_from else "",
                c.valid_to.isoformat() if c.valid_to else "",
                str(c.attributes.get("note", "")),
            ]
        )
    return out.getvalue().encode("utf-8")


@dataclass(frozen=True)
class CodeEdit:
    """One code as typed into the form: `position` empty to add a code at the end, else the position of
    the code it replaces; `version` names the new version."""

    position: str
    value: str
    label: str
    parent_code: str
    valid_from: str
    valid_to: str
    note: str
    version: str


@action(Permission.STANDARDS_EDIT)
def save_code(session: Session, actor: Actor, code: str, edit: CodeEdit, *, today: date) -> None:
    """Add a code or change the code at `edit.position`: the current version with this change becomes
    version `edit.version`, in force from `today`."""
    code_set = standards.get_code_set(session, actor, code)
    if code_set.current_version is None:
        raise Conflict("该代码集没有现行版本，请导入文件")
    current, codes = current_codes(session, actor, code_set.code)
    why_not = why_not_editable(codes, code_set.is_builtin)
    if why_not:
        raise Conflict(why_not)
    if not edit.value.strip():
        raise InvalidInput.on("code", "必须填写")
    if not edit.label.strip():
        raise InvalidInput.on("label", "必须填写")
    changed = CodeOut(
        code=edit.value.strip(),
        label=edit.label.strip(),
        position=0,
        parent_code=edit.parent_code.strip() or None,
        valid_from=parse_day(edit.valid_from, "valid_from"),
        valid_to=parse_day(edit.valid_to, "valid_to"),
        attributes={"note": edit.note.strip()} if edit.note.strip() else {},
    )
    position = edit.position.strip()
    if position:
        if not position.isdigit():
            raise InvalidInput.on("position", "排序应为正整数")
        at = int(position)
        matches = [i for i, c in enumerate(codes) if c.position == at]
        if not matches:
            raise InvalidInput.on("position", f"现行版本 {current} 中没有排序为 {at} 的代码")
        codes[matches[0]] = changed.model_copy(update={"position": at})
    else:
        last = max((c.position for c in codes), default=0)
        codes.append(changed.model_copy(update={"position": last + 1}))
    old = next(v for v in code_set.versions if v.version == current)
    meta = CodeSetImport(
        code=code_set.code,
        version=edit.version.strip(),
        valid_from=today,
        valid_to=old.valid_to if old.valid_to and old.valid_to > today else None,
        note=f"在 {current} 版基础上"
        + (f"修改代码“{changed.code}”" if position else f"增加代码“{changed.code}”"),
    )
    standards.import_code_set(session, actor, codes_csv(codes), meta)

"""The data API's operations: one record by key, filtered pages, bulk export, the change feed, 核验 and
一号通. Each returns only granted items of granted rows, masked by the items' rules unless granted in clear,
and records the call (`access.finish`) in the request's transaction.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Table
from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.auth.guard import action
from govshare.auth.permissions import Permission
from govshare.catalog.vocabulary import ShareType
from govshare.collection import store
from govshare.core.clock import utcnow
from govshare.core.node import node_config
from govshare.core.timelimit import time_limited
from govshare.core.uow import unit_of
from govshare.errors import DenialContext, InvalidInput, NotFound, PermissionDenied, RateLimited
from govshare.sharing import access as acc
from govshare.sharing import records as rec
from govshare.sharing.access import PERSON, Access, ItemMeta
from govshare.sharing.repository import SharingRepository
from govshare.standards import validators


@action(Permission.DATA_READ)
def get_record(session: Session, actor: Actor, code: str, key: str, *, operator: str) -> dict[str, Any]:
    access = rec.open_call(session, actor, code, "record", operator)
    values = rec.key_values(session, access, key)
    rec.note_key_subjects(access, values)
    row = rec.by_key(session, access, values)
    if row is None:
        error = NotFound("没有该主键的记录，或该记录不在授权范围内")
        access.detail["found"] = False
        access.keys = [access.key_label(values)]
        unit_of(session).after_rollback(lambda s: acc.finish(s, rec.reopened(s, access)))
        raise error
    acc.check_quota(session, access, rows=1)  # the row counts before it is returned
    access.touch([row])
    acc.finish(session, access)
    return rec.present(access, [row])[0]


# --- filtered pages ---------------------------------------------------------------------------------------


def _cursor(value: int) -> str:
    return base64.urlsafe_b64encode(f"s{value}".encode()).decode().rstrip("=")


def _after(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not raw.startswith("s") or not raw[1:].isdigit() or int(raw[1:]) > rec.MAX_SID:
            raise ValueError(raw)
        return int(raw[1:])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput.on("after", "分页游标无效，请使用上一页返回的 next") from None


def _filters(
    session: Session, access: Access, table: Table, filters: Mapping[str, str]
) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    granted = set(access.items)
    for name, raw in filters.items():
        item = access.meta.items.get(name)
        if item is None:
            raise InvalidInput.on(name, f"资源没有信息项“{name[:64]}”")
        if name not in granted:
            raise acc.deny(
                session,
                access.meta,
                access.actor,
                f"信息项“{item.name}”不在授权范围内，不能作为查询条件",
                access.operation,
            )
        if access.masked(name):
            # An equality filter on a masked item would answer "is it this value?" for any guess.
            raise acc.deny(
                session,
                access.meta,
                access.actor,
                f"信息项“{item.name}”仅以脱敏形式授权，不能用作查询条件",
                access.operation,
            )
        if item.subject:  # a probe for a person or organisation is on their record, found or not
            access.subjects.add(acc.normalise_subject(raw))
        if name not in table.c:
            clauses.append(rec.never())
            continue
        clauses.append(table.c[name] == rec.coerce(item, raw, name))
    return clauses


def _filter_detail(session: Session, access: Access, filters: Mapping[str, str]) -> dict[str, str]:
    """The filters as the audit keeps them: item and keyed digest of the value (`access.filter_digest`)."""
    secret = node_config(session).audit_key
    return {
        name: acc.filter_digest(secret, access.meta.items[name], value)
        for name, value in filters.items()
        if name in access.meta.items
    }


@dataclass
class Page:
    items: list[dict[str, Any]]
    next: str | None
    limit: int
    truncated: bool  # the asked limit was above the node's page maximum


@action(Permission.DATA_READ)
def query(
    session: Session,
    actor: Actor,
    code: str,
    filters: Mapping[str, str],
    *,
    after: str | None,
    limit: int | None,
    operator: str,
) -> Page:
    access = rec.open_call(session, actor, code, "query", operator)
    table = rec.require_table(access)
    page_max = node_config(session).data_page_max
    wanted = limit or min(100, page_max)
    size = min(wanted, page_max)
    clauses = _filters(session, access, table, filters)
    start = _after(after)
    where = [store.current(table), table.c._sid > start, *clauses, *rec.scope_filter(access, table)]
    rows = rec.page_where(session, access, table, where, size + 1)
    more = len(rows) > size
    rows = rows[:size]
    access.touch(rows)
    access.detail["filter"] = _filter_detail(session, access, filters)
    acc.check_quota(session, access, rows=len(rows))
    acc.finish(session, access)
    next_cursor = _cursor(int(rows[-1]["_sid"])) if more and rows else None
    return Page(rec.present(access, rows), next_cursor, size, wanted > page_max)


# --- export -----------------------------------------------------------------------------------------------


@dataclass
class ExportPlan:
    """What the streaming response reads, in its own read-only session: the records as of `as_of`."""

    resource_id: int
    table: Table
    columns: list[str]
    where: list[ColumnElement[bool]]
    items: list[str]
    rules: dict[str, str]
    clear: set[str]
    rows: int
    fmt: str
    as_of: datetime = field(default_factory=utcnow)


@action(Permission.DATA_READ)
def prepare_export(
    session: Session, actor: Actor, code: str, filters: Mapping[str, str], *, fmt: str, operator: str
) -> ExportPlan:
    """Count what the export will send (refused when it exceeds the day's rows left), audit it, and hand
    the plan to the streaming response. The stream reads the same snapshot (as of now)."""
    access = rec.open_call(session, actor, code, "export", operator)
    table = rec.require_table(access)
    moment = utcnow()
    where = [
        store.in_force_at(table, moment.replace(tzinfo=None)),
        *_filters(session, access, table, filters),
        *rec.scope_filter(access, table),
    ]
    with time_limited(session, node_config(session).data_query_timeout_ms):
        count = rec.count_where(session, table, where)
    acc.check_quota(session, access, rows=count)
    access.rows = count
    access.detail.update(format=fmt, filter=_filter_detail(session, access, filters))
    acc.finish(session, access)
    items = [f for f in access.items if f in table.c]
    return ExportPlan(
        access.meta.resource_id,
        table,
        items,
        where,
        items,
        access.mask_rules,
        access.clear,
        count,
        fmt,
        moment,
    )


# --- 核验 -------------------------------------------------------------------------------------------------


def _same(item: ItemMeta, stored: Any, claimed: Any) -> bool:
    if stored is None:
        return False
    if isinstance(stored, bool):
        return str(claimed).strip().lower() in (("true", "1", "是") if stored else ("false", "0", "否"))
    if isinstance(stored, Decimal):
        try:
            return Decimal(str(claimed).strip()) == stored
        except ArithmeticError:
            return False
    if isinstance(stored, int | float):
        try:
            return float(str(claimed).strip()) == float(stored)
        except ValueError:
            return False
    if isinstance(stored, datetime | date):
        return str(claimed).strip() == stored.isoformat()
    left, right = str(stored).strip(), str(claimed).strip()
    return left.upper() == right.upper() if item.subject else left == right


@action(Permission.DATA_READ)
def verify(
    session: Session, actor: Actor, code: str, key: str, claims: Mapping[str, Any], *, operator: str
) -> dict[str, Any]:
    """Match or mismatch per claimed item, nothing else: not the stored values, not other items."""
    access = rec.open_call(session, actor, code, "verify", operator)
    values = rec.key_values(session, access, key)
    rec.note_key_subjects(access, values)
    granted = set(access.items)
    for name in claims:
        item = access.meta.items.get(name)
        if item is None:
            raise InvalidInput.on(f"claims.{name[:64]}", f"资源没有信息项“{name[:64]}”")
        if name not in granted:
            raise acc.deny(
                session, access.meta, access.actor, f"信息项“{item.name}”不在授权范围内，不能核验", "verify"
            )
    table = rec.require_table(access)
    wanted = [table.c[n] for n in claims if n in table.c]
    rows = rec.first_match(
        session,
        table,
        wanted,
        [
            store.current(table),
            *(table.c[f] == v for f, v in values.items()),
            *rec.scope_filter(access, table),
        ],
    )
    row = rows[0] if rows else None
    results = {
        name: (
            "match"
            if row is not None and _same(access.meta.items[name], row.get(name), claimed)
            else "mismatch"
        )
        for name, claimed in claims.items()
    }
    access.rows = 1 if row is not None else 0
    acc.check_quota(session, access, rows=access.rows)  # a found record counts, as a returned one does
    access.keys = [access.key_label(values)]
    access.detail.update(
        found=row is not None, claims=",".join(claims), matched=sum(v == "match" for v in results.values())
    )
    acc.finish(session, access)
    return {
        "found": row is not None,
        "match": row is not None and all(v == "match" for v in results.values()),
        "results": results,
    }


# --- 一号通 ----------------------------------------------------------------------------------------------


@action(Permission.DATA_READ)
def one_number(session: Session, actor: Actor, kind: str, number: str, *, operator: str) -> dict[str, Any]:
    """Everything the caller is granted about one person (公民身份号码) or organisation (统一社会信用代码),
    from every granted resource keyed by that number, each part labelled with resource and provider."""
    checked = (validators.id_number if kind == PERSON else validators.uscc)(number)
    if not checked.ok:
        label = "公民身份号码" if kind == PERSON else "统一社会信用代码"
        raise InvalidInput.on("number", f"{label}无效：{checked.message}")
    value = str(checked.value)
    now = utcnow()
    parts: list[dict[str, Any]] = []
    if actor.kind != "application" or actor.id is None:
        raise _not_application(kind)
    audited = 0
    for grant in SharingRepository(session).live_grants(int(actor.id), now):
        code = grant.resource.code
        if code is None:
            continue
        try:
            meta, table = acc.locate(session, code)
        except NotFound:
            continue
        key = meta.key
        if meta.share_type == ShareType.NONE or len(key) != 1 or meta.items[key[0]].subject != kind:
            continue
        access = Access(actor, operator, kind, meta, grant, table)
        if access.table is None or key[0] not in access.items:
            continue
        typed = {key[0]: value}
        rec.note_key_subjects(access, typed)
        row = rec.by_key(session, access, typed)
        try:  # a found record counts against the day's rows before it is returned
            acc.check_quota(session, access, rows=0 if row is None else 1)
        except RateLimited as limited:
            parts.append(
                {
                    "resource": meta.code,
                    "resource_name": meta.name,
                    "provider": meta.provider_code,
                    "provider_name": meta.provider_name,
                    "record": None,
                    "refused": limited.message,
                }
            )
            continue
        if row is not None:
            access.touch([row])
            parts.append(
                {
                    "resource": meta.code,
                    "resource_name": meta.name,
                    "provider": meta.provider_code,
                    "provider_name": meta.provider_name,
                    "record": rec.present(access, [row])[0],
                }
            )
        access.detail["found"] = row is not None
        acc.finish(session, access, target=meta.code)
        audited += 1
    if not audited:  # no grant answered for the number: the look-up is still on the subject's record
        acc.record_probe(session, actor, kind, value, operator, {"parts": len(parts), "found": False})
    return {"kind": kind, "parts": parts}


def _not_application(kind: str) -> Exception:
    return PermissionDenied(
        "数据接口只接受应用系统的接口密钥调用",
        context=DenialContext(action=f"data.{kind}", permission="application"),
    )


@action(Permission.DATA_READ)
def my_resources(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """The resources this application may call now, with the items, scope and quota of each grant."""
    if actor.kind != "application" or actor.id is None:
        raise _not_application("list")
    out = []
    for grant in SharingRepository(session).live_grants(int(actor.id), utcnow()):
        if grant.resource.code is None:
            continue
        try:
            meta = acc.resource_meta(session, grant.resource.code)
        except NotFound:
            continue
        if meta.share_type == ShareType.NONE:
            continue
        out.append(
            {
                "resource": meta.code,
                "name": meta.name,
                "provider": meta.provider_name,
                "grant": grant.id,
                "items": [
                    {
                        "field": f,
                        "name": meta.items[f].name,
                        "masked": meta.items[f].mask_rule != "none" and f not in grant.clear_items,
                        "key": meta.items[f].is_key,
                    }
                    for f in meta.items
                    if f in grant.items and meta.items[f].share_type != ShareType.NONE
                ],
                "row_scope": grant.row_scope,
                "valid_to": grant.valid_to.isoformat(),
                "requests_per_day": grant.requests_per_day,
                "rows_per_day": grant.rows_per_day,
            }
        )
    return out

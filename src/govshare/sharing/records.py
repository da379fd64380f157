"""What every data-API operation shares: typed filter values, the grant's row scope as SQL, the granted
columns, time-limited queries, key look-ups and the masked, JSON-ready answer."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, false, func, select
from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.collection import store
from govshare.collection.itemtypes import (
    DECIMAL_RULE,
    DECIMAL_TYPES,
    FLOAT_TYPES,
    decimal_text,
    parse_decimal,
)
from govshare.core.inputs import text_problem
from govshare.core.node import node_config
from govshare.core.timelimit import time_limited
from govshare.errors import InvalidInput, NotFound
from govshare.sharing import access as acc
from govshare.sharing.access import Access, ItemMeta
from govshare.sharing.masking import mask_record
from govshare.standards import validators

MAX_SID = 2**62  # record ids are BIGINT


# --- values -----------------------------------------------------------------------------------------------


def coerce(item: ItemMeta, raw: str, where: str) -> Any:
    """A filter or scope value (text) as the item's stored type; a bad value names the item."""
    problem = text_problem(raw)
    if problem:
        raise InvalidInput.on(where, problem)
    try:
        if item.data_type == "I":
            number = int(raw)
            if not -(2**63) <= number < 2**63:
                raise ValueError(raw)
            return number
        if item.data_type in DECIMAL_TYPES:
            try:
                return parse_decimal(raw)
            except ValueError:
                raise InvalidInput.on(
                    where, f"“{raw[:50]}”不是信息项“{item.name}”的有效取值（{DECIMAL_RULE}）"
                ) from None
        if item.data_type in FLOAT_TYPES:
            real = float(raw)
            if not math.isfinite(real):
                raise ValueError(raw)
            return real
        if item.data_type == "D":
            return date.fromisoformat(raw)
        if item.data_type == "T":
            return datetime.fromisoformat(raw).replace(tzinfo=None)
        if item.data_type == "L":
            if raw.lower() not in ("true", "false", "1", "0"):
                raise ValueError(raw)
            return raw.lower() in ("true", "1")
    except ValueError:
        raise InvalidInput.on(where, f"“{raw[:50]}”不是信息项“{item.name}”的有效取值") from None
    if item.subject in (acc.PERSON, acc.ORG):  # as collection stored it: 15 digits upgraded, x upper-cased
        checked = (validators.id_number if item.subject == acc.PERSON else validators.uscc)(raw)
        if checked.ok and checked.value is not None:
            return str(checked.value)
    return raw


def json_value(value: Any) -> Any:
    """A stored value as the JSON answers carry it: dates ISO, decimals (数值, 货币) as exact text."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return decimal_text(value)
    return value


def present(access: Access, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Granted items only, masked, JSON-ready."""
    items, rules, clear = access.items, access.mask_rules, access.clear
    out = []
    for row in rows:
        record = {f: json_value(row[f]) for f in items if f in row}
        out.append(mask_record(record, rules, clear))
    return out


# --- queries ----------------------------------------------------------------------------------------------


def require_table(access: Access) -> Table:
    if access.table is None:
        raise NotFound(f"资源“{access.meta.name}”尚未归集数据")
    return access.table


def scope_filter(access: Access, table: Table) -> list[ColumnElement[bool]]:
    """The grant's row scope as SQL (values typed as the items)."""
    clauses: list[ColumnElement[bool]] = []
    for name, values in access.grant.row_scope.items():
        item = access.meta.items.get(name)
        if item is None or name not in table.c:
            clauses.append(false())  # an item the catalog no longer has: no row qualifies
            continue
        clauses.append(table.c[name].in_([coerce(item, str(v), f"row_scope.{name}") for v in values]))
    return clauses


def columns(access: Access, table: Table) -> list[Any]:
    return [table.c._sid, *(table.c[f] for f in access.items if f in table.c)]


def fetch(session: Session, query: Select[Any]) -> list[dict[str, Any]]:
    with time_limited(session, node_config(session).data_query_timeout_ms):
        return [dict(r._mapping) for r in session.execute(query)]


def key_values(session: Session, access: Access, key: str) -> dict[str, Any]:
    fields = access.meta.key
    if not fields:
        raise InvalidInput.on("key", "该资源没有主键信息项，不能按主键查询")
    missing = [f for f in fields if f not in access.items]
    if missing:
        raise acc.deny(
            session, access.meta, access.actor, "授权不含该资源的主键信息项，不能按主键查询", access.operation
        )
    parts = key.split(",") if len(fields) > 1 else [key]
    if len(parts) != len(fields):
        raise InvalidInput.on("key", f"主键由 {len(fields)} 项组成（{'、'.join(fields)}），请以英文逗号分隔")
    return {f: coerce(access.meta.items[f], p.strip(), "key") for f, p in zip(fields, parts, strict=True)}


def by_key(session: Session, access: Access, key: dict[str, Any]) -> dict[str, Any] | None:
    table = require_table(access)
    query = select(*columns(access, table)).where(
        store.current(table), *(table.c[f] == v for f, v in key.items()), *scope_filter(access, table)
    )
    rows = fetch(session, query.limit(1))
    return rows[0] if rows else None


def note_key_subjects(access: Access, key: dict[str, Any]) -> None:
    """A looked-up key is a touched subject even when no record answered."""
    for name, value in key.items():
        if access.meta.items[name].subject:
            access.subjects.add(acc.normalise_subject(str(value)))


def open_call(session: Session, actor: Actor, code: str, operation: str, operator: str) -> Access:
    access = acc.open_access(session, actor, code, operation, operator)
    acc.check_quota(session, access)
    return access


def reopened(session: Session, access: Access) -> Access:
    """After the rollback the grant object is expired; reload it in the new transaction."""
    access.grant = session.merge(access.grant, load=True)
    return access


def first_rows(session: Session, access: Access, table: Table, limit: int) -> list[dict[str, Any]]:
    """The first `limit` current records in the grant's scope, in record order (the preview)."""
    query = (
        select(*columns(access, table))
        .where(store.current(table), *scope_filter(access, table))
        .order_by(table.c._sid)
        .limit(limit)
    )
    return fetch(session, query)


def streamed(
    table: Table, names: Sequence[str], where: Sequence[ColumnElement[bool]], chunk: int
) -> Select[Any]:
    """The columns `names` of the rows matching `where`, in record order, streamed `chunk` rows at a time
    (the bulk export reads them from a read-only session)."""
    return (
        select(*(table.c[n] for n in names))
        .where(*where)
        .order_by(table.c._sid)
        .execution_options(stream_results=True, yield_per=chunk)
    )


def never() -> ColumnElement[bool]:
    """A condition no record meets (a filter on an item the record table does not have)."""
    return false()


def page_where(
    session: Session, access: Access, table: Table, where: Sequence[ColumnElement[bool]], limit: int
) -> list[dict[str, Any]]:
    """The granted columns of the records matching `where`, in record order, at most `limit`
    (time-limited)."""
    return fetch(session, select(*columns(access, table)).where(*where).order_by(table.c._sid).limit(limit))


def count_where(session: Session, table: Table, where: Sequence[ColumnElement[bool]]) -> int:
    """How many records match `where` (the caller sets the time limit)."""
    return int(session.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def first_match(
    session: Session, table: Table, wanted: Sequence[Any], where: Sequence[ColumnElement[bool]]
) -> list[dict[str, Any]]:
    """`_sid` and the `wanted` columns of one record matching `where` (at most one row, time-limited)."""
    return fetch(session, select(table.c._sid, *wanted).where(*where).limit(1))

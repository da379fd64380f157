"""The data API's operations: one record by key, filtered pages, bulk export, the change feed, 核验 and
一号通. Each returns only granted items of granted rows, masked by the items' rules unless granted in clear,
and records the call (`access.finish`) in the request's transaction.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, and_, exc, false, func, or_, select, text
from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.auth.guard import action
from govshare.auth.permissions import Permission
from govshare.catalog.vocabulary import ShareType
from govshare.core.clock import utcnow
from govshare.core.inputs import text_problem
from govshare.core.node import node_config
from govshare.errors import DenialContext, InvalidInput, NotFound, PermissionDenied, QueryTimeout, RateLimited
from govshare.models import Batch
from govshare.sharing import access as acc
from govshare.sharing.access import PERSON, Access, ItemMeta
from govshare.sharing.masking import mask_record
from govshare.sharing.repository import SharingRepository
from govshare.standards import validators

SYSTEM = ("_sid", "_valid_from", "_valid_to", "_batch_id", "_source_id")


# --- values -----------------------------------------------------------------------------------------------


def _coerce(item: ItemMeta, raw: str, where: str) -> Any:
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
        if item.data_type in ("N", "Y", "F", "B"):
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
    return raw


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _present(access: Access, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Granted items only, masked, JSON-ready."""
    items, rules, clear = access.items, access.mask_rules, access.clear
    out = []
    for row in rows:
        record = {f: _json_value(row[f]) for f in items if f in row}
        out.append(mask_record(record, rules, clear))
    return out


# --- queries ----------------------------------------------------------------------------------------------


def _require_table(access: Access) -> Table:
    if access.table is None:
        raise NotFound(f"资源“{access.meta.name}”尚未归集数据")
    return access.table


def _scope_filter(access: Access, table: Table) -> list[ColumnElement[bool]]:
    """The grant's row scope as SQL (values typed as the items)."""
    clauses: list[ColumnElement[bool]] = []
    for name, values in access.grant.row_scope.items():
        item = access.meta.items.get(name)
        if item is None or name not in table.c:
            clauses.append(false())  # an item the catalog no longer has: no row qualifies
            continue
        clauses.append(table.c[name].in_([_coerce(item, str(v), f"row_scope.{name}") for v in values]))
    return clauses


def _columns(access: Access, table: Table) -> list[Any]:
    return [table.c._sid, *(table.c[f] for f in access.items if f in table.c)]


def _current(table: Table) -> ColumnElement[bool]:
    return table.c._valid_to.is_(None)


@contextmanager
def _time_limited(session: Session, limit_ms: int) -> Iterator[None]:
    """Abort a query that runs past the limit: SQLite's progress handler, PostgreSQL's statement_timeout."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        raw = connection.connection.dbapi_connection
        assert raw is not None
        deadline = utcnow().timestamp() + limit_ms / 1000
        raw.set_progress_handler(lambda: int(utcnow().timestamp() > deadline), 20_000)
        try:
            yield
        except exc.OperationalError as error:
            if "interrupted" in str(error):
                raise QueryTimeout(f"查询超过 {limit_ms} 毫秒被中止，请增加查询条件、缩小范围") from None
            raise
        finally:
            raw.set_progress_handler(None, 0)
        return
    session.execute(text(f"SET LOCAL statement_timeout = {int(limit_ms)}"))
    try:
        yield
    except exc.OperationalError as error:
        if "statement timeout" in str(error) or "canceling statement" in str(error):
            raise QueryTimeout(f"查询超过 {limit_ms} 毫秒被中止，请增加查询条件、缩小范围") from None
        raise
    session.execute(text("SET LOCAL statement_timeout = 0"))


def _fetch(session: Session, query: Select[Any]) -> list[dict[str, Any]]:
    with _time_limited(session, node_config(session).data_query_timeout_ms):
        return [dict(r._mapping) for r in session.execute(query)]


def _key_values(access: Access, key: str) -> dict[str, Any]:
    fields = access.meta.key
    if not fields:
        raise InvalidInput.on("key", "该资源没有主键信息项，不能按主键查询")
    missing = [f for f in fields if f not in access.items]
    if missing:
        raise acc.deny(
            access.meta, access.actor, "授权不含该资源的主键信息项，不能按主键查询", access.operation
        )
    parts = key.split(",") if len(fields) > 1 else [key]
    if len(parts) != len(fields):
        raise InvalidInput.on("key", f"主键由 {len(fields)} 项组成（{'、'.join(fields)}），请以英文逗号分隔")
    return {f: _coerce(access.meta.items[f], p.strip(), "key") for f, p in zip(fields, parts, strict=True)}


def _by_key(session: Session, access: Access, key: dict[str, Any]) -> dict[str, Any] | None:
    table = _require_table(access)
    query = select(*_columns(access, table)).where(
        _current(table), *(table.c[f] == v for f, v in key.items()), *_scope_filter(access, table)
    )
    rows = _fetch(session, query.limit(1))
    return rows[0] if rows else None


def _note_key_subjects(access: Access, key: dict[str, Any]) -> None:
    """A looked-up key is a touched subject even when no record answered."""
    for name, value in key.items():
        if access.meta.items[name].subject:
            access.subjects.add(acc.normalise_subject(str(value)))


def _open(session: Session, actor: Actor, code: str, operation: str, operator: str) -> Access:
    access = acc.open_access(session, actor, code, operation, operator)
    acc.check_quota(session, access)
    return access


@action(Permission.DATA_READ)
def get_record(session: Session, actor: Actor, code: str, key: str, *, operator: str) -> dict[str, Any]:
    access = _open(session, actor, code, "record", operator)
    values = _key_values(access, key)
    _note_key_subjects(access, values)
    row = _by_key(session, access, values)
    if row is None:
        error = NotFound("没有该主键的记录，或该记录不在授权范围内")
        access.detail["found"] = False
        access.keys = [access.key_label(values)]
        error.after_rollback = lambda s: acc.finish(s, _reopened(s, access))
        raise error
    access.touch([row])
    acc.finish(session, access)
    return _present(access, [row])[0]


def _reopened(session: Session, access: Access) -> Access:
    """After the rollback the grant object is expired; reload it in the new transaction."""
    access.grant = session.merge(access.grant, load=True)
    return access


# --- filtered pages ---------------------------------------------------------------------------------------

MAX_SID = 2**62  # record ids are BIGINT
MAX_BATCH = 2**31 - 1  # batch ids are INTEGER on PostgreSQL


def _cursor(value: int) -> str:
    return base64.urlsafe_b64encode(f"s{value}".encode()).decode().rstrip("=")


def _after(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not raw.startswith("s") or not raw[1:].isdigit() or int(raw[1:]) > MAX_SID:
            raise ValueError(raw)
        return int(raw[1:])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput.on("after", "分页游标无效，请使用上一页返回的 next") from None


def _filters(access: Access, table: Table, filters: Mapping[str, str]) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    granted = set(access.items)
    for name, raw in filters.items():
        item = access.meta.items.get(name)
        if item is None:
            raise InvalidInput.on(name, f"资源没有信息项“{name[:64]}”")
        if name not in granted:
            raise acc.deny(
                access.meta,
                access.actor,
                f"信息项“{item.name}”不在授权范围内，不能作为查询条件",
                access.operation,
            )
        if name not in table.c:
            clauses.append(false())
            continue
        clauses.append(table.c[name] == _coerce(item, raw, name))
    return clauses


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
    access = _open(session, actor, code, "query", operator)
    table = _require_table(access)
    page_max = node_config(session).data_page_max
    wanted = limit or min(100, page_max)
    size = min(wanted, page_max)
    clauses = _filters(access, table, filters)
    start = _after(after)
    statement = (
        select(*_columns(access, table))
        .where(_current(table), table.c._sid > start, *clauses, *_scope_filter(access, table))
        .order_by(table.c._sid)
        .limit(size + 1)
    )
    rows = _fetch(session, statement)
    more = len(rows) > size
    rows = rows[:size]
    access.touch(rows)
    access.detail["filter"] = json.dumps(dict(filters), ensure_ascii=False)[:500]
    acc.check_quota(session, access, rows=len(rows))
    acc.finish(session, access)
    next_cursor = _cursor(int(rows[-1]["_sid"])) if more and rows else None
    return Page(_present(access, rows), next_cursor, size, wanted > page_max)


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


def _as_of(table: Table, moment: datetime) -> ColumnElement[bool]:
    naive = moment.replace(tzinfo=None)
    return and_(table.c._valid_from <= naive, or_(table.c._valid_to.is_(None), table.c._valid_to > naive))


@action(Permission.DATA_READ)
def prepare_export(
    session: Session, actor: Actor, code: str, filters: Mapping[str, str], *, fmt: str, operator: str
) -> ExportPlan:
    """Count what the export will send (refused when it exceeds the day's rows left), audit it, and hand
    the plan to the streaming response. The stream reads the same snapshot (as of now)."""
    access = _open(session, actor, code, "export", operator)
    table = _require_table(access)
    moment = utcnow()
    where = [_as_of(table, moment), *_filters(access, table, filters), *_scope_filter(access, table)]
    with _time_limited(session, node_config(session).data_query_timeout_ms):
        count = int(session.execute(select(func.count()).select_from(table).where(*where)).scalar_one())
    acc.check_quota(session, access, rows=count)
    access.rows = count
    access.detail.update(format=fmt, filter=json.dumps(dict(filters), ensure_ascii=False)[:500])
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


# --- change feed ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedCursor:
    since: int  # changes after this batch were not yet delivered
    upto: int  # the last batch this round delivers
    phase: str  # u: upserts, d: deletions
    sid: int

    def encode(self) -> str:
        raw = f"v1.{self.since}.{self.upto}.{self.phase}.{self.sid}"
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str | None) -> FeedCursor | None:
        if not value or value == "0":
            return None
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
            version, since, upto, phase, sid = raw.split(".")
            if version != "v1" or phase not in ("u", "d"):
                raise ValueError(raw)
            cursor = cls(int(since), int(upto), phase, int(sid))
            if min(cursor.since, cursor.upto, cursor.sid) < 0 or cursor.sid > MAX_SID:
                raise ValueError(raw)
            if max(cursor.since, cursor.upto) > MAX_BATCH or cursor.since > cursor.upto:
                raise ValueError(raw)
            return cursor
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise InvalidInput.on("since", "变更游标无效，请使用上一次返回的 next") from None


@dataclass
class ChangePage:
    changes: list[dict[str, Any]]
    next: str
    more: bool


def _applied_at(session: Session, resource_id: int, batch_id: int) -> datetime | None:
    if batch_id <= 0:
        return None
    found = session.scalar(
        select(Batch.applied_at).where(Batch.id == batch_id, Batch.resource_id == resource_id)
    )
    return found.replace(tzinfo=None) if found else None


@action(Permission.DATA_READ)
def changes(
    session: Session, actor: Actor, code: str, since: str | None, *, limit: int | None, operator: str
) -> ChangePage:
    """What changed since a cursor, for consumers that keep a copy: `upsert` with the current record
    (granted items, masked) for records written after the cursor, then `delete` with the key of records
    removed since. A round covers the batches committed when it began; `next` continues it, and once it
    is done `next` starts the following round."""
    access = _open(session, actor, code, "changes", operator)
    table = _require_table(access)
    size = min(limit or 500, node_config(session).data_page_max)
    cursor = FeedCursor.decode(since)
    if cursor is None:
        latest = session.scalar(
            select(func.max(Batch.id)).where(
                Batch.resource_id == access.meta.resource_id, Batch.status == "succeeded"
            )
        )
        cursor = FeedCursor(0, int(latest or 0), "u", 0)
    elif cursor.phase == "u" and cursor.sid == 0 and cursor.since == cursor.upto:
        latest = session.scalar(
            select(func.max(Batch.id)).where(
                Batch.resource_id == access.meta.resource_id, Batch.status == "succeeded"
            )
        )
        cursor = FeedCursor(cursor.since, max(cursor.since, int(latest or 0)), "u", 0)
    scope = _scope_filter(access, table)
    out: list[dict[str, Any]] = []
    if cursor.phase == "u":
        rows = _fetch(
            session,
            select(*_columns(access, table))
            .where(
                _current(table),
                table.c._batch_id > cursor.since,
                table.c._batch_id <= cursor.upto,
                table.c._sid > cursor.sid,
                *scope,
            )
            .order_by(table.c._sid)
            .limit(size + 1),
        )
        more = len(rows) > size
        rows = rows[:size]
        access.touch(rows)
        out = [{"op": "upsert", "record": r} for r in _present(access, rows)]
        if more:
            next_cursor = FeedCursor(cursor.since, cursor.upto, "u", int(rows[-1]["_sid"]))
        else:
            next_cursor = FeedCursor(cursor.since, cursor.upto, "d", 0)
    else:
        next_cursor, more = cursor, False
    if next_cursor.phase == "d" and len(out) < size:
        deleted, more = _deletions(session, access, table, next_cursor, size - len(out))
        out += deleted
        if more:
            last = int(deleted[-1]["_sid"])
            next_cursor = FeedCursor(cursor.since, cursor.upto, "d", last)
        else:
            next_cursor = FeedCursor(cursor.upto, cursor.upto, "u", 0)
        for change in deleted:
            change.pop("_sid")
    acc.check_quota(session, access, rows=len(out))
    access.rows = len(out)
    acc.finish(session, access)
    return ChangePage(out, next_cursor.encode(), more)


def _deletions(
    session: Session, access: Access, table: Table, cursor: FeedCursor, size: int
) -> tuple[list[dict[str, Any]], bool]:
    """Keys whose record was removed by a batch in (since, upto] and that have no current record."""
    start = _applied_at(session, access.meta.resource_id, cursor.since)
    end = _applied_at(session, access.meta.resource_id, cursor.upto)
    if end is None:
        return [], False
    key = access.meta.key
    if not key or any(k not in access.items for k in key):
        return [], False  # without the key items granted, a deletion cannot be named
    alias = table.alias("now")
    still = select(alias.c._sid).where(alias.c._valid_to.is_(None), *(alias.c[k] == table.c[k] for k in key))
    where = [
        table.c._valid_to.is_not(None),
        table.c._valid_to <= end,
        ~still.exists(),
        *_scope_filter(access, table),
    ]
    if start is not None:
        where.append(table.c._valid_to > start)
    grouped = (
        select(func.max(table.c._sid).label("_sid"), *(table.c[k] for k in key))
        .where(*where)
        .group_by(*(table.c[k] for k in key))
        .subquery()
    )
    rows = _fetch(
        session,
        select(grouped).where(grouped.c._sid > cursor.sid).order_by(grouped.c._sid).limit(size + 1),
    )
    more = len(rows) > size
    rows = rows[:size]
    return [
        {"op": "delete", "key": {k: _masked_key(access, k, r[k]) for k in key}, "_sid": r["_sid"]}
        for r in rows
    ], more


def _masked_key(access: Access, name: str, value: Any) -> Any:
    return mask_record({name: _json_value(value)}, access.mask_rules, access.clear)[name]


# --- 核验 -------------------------------------------------------------------------------------------------


def _same(item: ItemMeta, stored: Any, claimed: Any) -> bool:
    if stored is None:
        return False
    if isinstance(stored, bool):
        return str(claimed).strip().lower() in (("true", "1", "是") if stored else ("false", "0", "否"))
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
    access = _open(session, actor, code, "verify", operator)
    values = _key_values(access, key)
    _note_key_subjects(access, values)
    granted = set(access.items)
    for name in claims:
        item = access.meta.items.get(name)
        if item is None:
            raise InvalidInput.on(f"claims.{name[:64]}", f"资源没有信息项“{name[:64]}”")
        if name not in granted:
            raise acc.deny(
                access.meta, access.actor, f"信息项“{item.name}”不在授权范围内，不能核验", "verify"
            )
    table = _require_table(access)
    wanted = [table.c[n] for n in claims if n in table.c]
    rows = _fetch(
        session,
        select(table.c._sid, *wanted)
        .where(_current(table), *(table.c[f] == v for f, v in values.items()), *_scope_filter(access, table))
        .limit(1),
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
    for grant in SharingRepository(session).live_grants(int(actor.id), now):
        code = grant.resource.code
        if code is None:
            continue
        try:
            meta = acc.resource_meta(session, code)
        except NotFound:
            continue
        key = meta.key
        if meta.share_type == ShareType.NONE or len(key) != 1 or meta.items[key[0]].subject != kind:
            continue
        access = Access(actor, operator, kind, meta, grant, acc.record_table(session, meta))
        if access.table is None or key[0] not in access.items:
            continue
        try:
            acc.check_quota(session, access)
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
        typed = {key[0]: value}
        _note_key_subjects(access, typed)
        row = _by_key(session, access, typed)
        if row is not None:
            access.touch([row])
            parts.append(
                {
                    "resource": meta.code,
                    "resource_name": meta.name,
                    "provider": meta.provider_code,
                    "provider_name": meta.provider_name,
                    "record": _present(access, [row])[0],
                }
            )
        access.detail["found"] = row is not None
        acc.finish(session, access, target=meta.code)
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

"""The change feed (`GET /api/v1/data/{resource}/changes`): what changed since a cursor, for consumers that
keep a copy."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.auth.guard import action
from govshare.auth.permissions import Permission
from govshare.core.node import node_config
from govshare.errors import InvalidInput
from govshare.models import Batch
from govshare.sharing import access as acc
from govshare.sharing import records as rec
from govshare.sharing.access import Access
from govshare.sharing.masking import mask_record

# --- change feed ------------------------------------------------------------------------------------------


MAX_BATCH = 2**31 - 1  # batch ids are INTEGER on PostgreSQL


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
            if min(cursor.since, cursor.upto, cursor.sid) < 0 or cursor.sid > rec.MAX_SID:
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
    access = rec.open_call(session, actor, code, "changes", operator)
    table = rec.require_table(access)
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
    scope = rec.scope_filter(access, table)
    out: list[dict[str, Any]] = []
    if cursor.phase == "u":
        rows = rec.fetch(
            session,
            select(*rec.columns(access, table))
            .where(
                rec.current(table),
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
        out = [{"op": "upsert", "record": r} for r in rec.present(access, rows)]
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
        *rec.scope_filter(access, table),
    ]
    if start is not None:
        where.append(table.c._valid_to > start)
    grouped = (
        select(func.max(table.c._sid).label("_sid"), *(table.c[k] for k in key))
        .where(*where)
        .group_by(*(table.c[k] for k in key))
        .subquery()
    )
    rows = rec.fetch(
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
    return mask_record({name: rec.json_value(value)}, access.mask_rules, access.clear)[name]

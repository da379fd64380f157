"""The change feed (`GET /api/v1/data/{resource}/changes`): what changed since a cursor, for consumers that
keep a copy."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.auth.guard import action
from govshare.auth.permissions import Permission
from govshare.core.node import node_config
from govshare.errors import InvalidInput
from govshare.sharing import access as acc
from govshare.sharing import changes_queries as queries
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
        latest = queries.latest_succeeded_batch(session, access.meta.resource_id)
        cursor = FeedCursor(0, latest, "u", 0)
    elif cursor.phase == "u" and cursor.sid == 0 and cursor.since == cursor.upto:
        latest = queries.latest_succeeded_batch(session, access.meta.resource_id)
        cursor = FeedCursor(cursor.since, max(cursor.since, latest), "u", 0)
    out: list[dict[str, Any]] = []
    if cursor.phase == "u":
        rows = queries.upserts(
            session, access, table, since=cursor.since, upto=cursor.upto, after_sid=cursor.sid, limit=size + 1
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
    start = queries.applied_at(session, access.meta.resource_id, cursor.since)
    end = queries.applied_at(session, access.meta.resource_id, cursor.upto)
    if end is None:
        return [], False
    key = access.meta.key
    if not key or any(k not in access.items for k in key):
        return [], False  # without the key items granted, a deletion cannot be named
    rows = queries.deleted_keys(
        session, access, table, list(key), start=start, end=end, after_sid=cursor.sid, limit=size + 1
    )
    more = len(rows) > size
    rows = rows[:size]
    return [
        {"op": "delete", "key": {k: _masked_key(access, k, r[k]) for k in key}, "_sid": r["_sid"]}
        for r in rows
    ], more


def _masked_key(access: Access, name: str, value: Any) -> Any:
    return mask_record({name: rec.json_value(value)}, access.mask_rules, access.clear)[name]

"""The portal's sample rows (样例数据预览) on a resource page: up to five current records, for a person whose
department holds a live grant on the resource — only the granted items of the granted rows, masked by the
items' rules unless granted in clear, exactly as the data API returns them.

A preview is a data access: it is audited like a data-API call (`data.preview`, purpose 门户预览, the keys
and the persons or organisations touched in the subject index), in the page's transaction. It does not
count against the grant's daily quota, which belongs to the consuming application's calls."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.orm import Session

from govshare.audit import service as audit
from govshare.auth.actor import Actor
from govshare.auth.guard import action
from govshare.auth.permissions import Permission
from govshare.catalog.vocabulary import ShareType
from govshare.core.clock import utcnow
from govshare.core.node import node_config
from govshare.errors import NotFound
from govshare.models import ShareGrant
from govshare.sharing import access as acc
from govshare.sharing import records as rec
from govshare.sharing.access import Access
from govshare.sharing.repository import SharingRepository

PURPOSE = "门户预览"
MAX_ROWS = 5


@dataclass(frozen=True)
class Column:
    field: str
    name: str
    masked: bool


@dataclass(frozen=True)
class Preview:
    allowed: bool  # the reader's department holds a live grant
    message: str  # why there is nothing to show, in Chinese ("" when rows are shown)
    columns: list[Column] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    grant_id: int | None = None


def _live_grant(session: Session, department_id: int, resource_id: int) -> ShareGrant | None:
    return SharingRepository(session).live_grant_of(department_id, resource_id, utcnow())


@action(Permission.CATALOG_READ)
def may_preview(session: Session, actor: Actor, code: str) -> bool:
    """Whether the reader's department holds a live grant on the published resource (reads no data)."""
    if actor.kind != "user" or actor.department_id is None:
        return False
    try:
        meta = acc.resource_meta(session, code)
    except NotFound:
        return False
    if meta.share_type == ShareType.NONE:
        return False
    return _live_grant(session, actor.department_id, meta.resource_id) is not None


@action(Permission.CATALOG_READ)
def preview(session: Session, actor: Actor, code: str, *, limit: int = MAX_ROWS) -> Preview:
    """Up to `limit` (at most five) current records under the department's live grant, masked; audited."""
    if actor.kind != "user" or actor.department_id is None:
        return Preview(False, "无权预览：只有持有授权部门的工作人员可以预览样例数据")
    try:
        meta, table = acc.locate(session, code)
    except NotFound:
        return Preview(False, "无权预览：该资源未发布或已下架")
    if meta.share_type == ShareType.NONE:
        return Preview(False, "无权预览：该资源为不予共享")
    grant = _live_grant(session, actor.department_id, meta.resource_id)
    if grant is None:
        return Preview(False, "无权预览：本部门没有该资源的有效授权（未申请、未获批准、已过期或已撤销）")
    reader = replace(actor, purpose=PURPOSE)
    access = Access(reader, actor.name, "preview", meta, grant, table)
    columns = [
        Column(f, meta.items[f].name, meta.items[f].mask_rule != "none" and f not in access.clear)
        for f in access.items
    ]
    if table is None:
        return Preview(True, "该资源尚未归集数据", columns, [], grant.id)
    rows = rec.first_rows(session, access, table, max(1, min(limit, MAX_ROWS)))
    access.touch(rows)
    _record(session, access)
    return Preview(True, "" if rows else "授权范围内暂无记录", columns, rec.present(access, rows), grant.id)


def _record(session: Session, access: Access) -> None:
    """Audit the preview as the data API audits a call (without counting it against the quota)."""
    entry = audit.record(
        session,
        access.actor,
        "data.preview",
        target_type="resource",
        target_id=access.meta.code,
        detail={
            "resource": access.meta.code,
            "grant": access.grant.id,
            "operator": access.operator,
            "rows": access.rows,
            "keys": ",".join(access.keys),
            "channel": "portal",
        },
    )
    secret = node_config(session).audit_key
    SharingRepository(session).add_subjects(
        [
            {
                "audit_seq": entry.seq,
                "subject_digest": acc.subject_digest(secret, value),
                "resource_id": access.meta.resource_id,
            }
            for value in sorted(access.subjects)
        ]
    )

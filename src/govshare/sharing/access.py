"""What every data call goes through: the caller's live grant for the resource, its quota, and the record
of the call (an audit entry naming caller, purpose, operator and the keys touched; the index of the persons
and organisations touched; the day's usage counters). A refusal is counted and audited too.

The resource's published items are cached per process by version id (a published version never changes);
the grant and the day's usage are read from the database on every call, so a revocation, an expiry or an
exhausted quota takes effect on the next request.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session

from govshare.audit import service as audit
from govshare.auth.actor import Actor
from govshare.catalog.vocabulary import ShareType
from govshare.collection import store
from govshare.core.clock import BEIJING, utcnow
from govshare.core.node import node_config
from govshare.core.sm import hmac_sm3_hex
from govshare.core.uow import unit_of
from govshare.errors import DenialContext, NotFound, PermissionDenied, RateLimited
from govshare.models import Department, Resource, ResourceVersion, ShareGrant
from govshare.sharing.masking import harden, mask_value, reveals
from govshare.sharing.repository import SharingRepository

PERSON, ORG = "person", "org"
SUBJECT_STANDARDS = {"GB 11643": PERSON, "GB 32100": ORG}


@dataclass(frozen=True)
class ItemMeta:
    field: str
    name: str
    data_type: str
    mask_rule: str
    share_type: str
    is_key: bool
    subject: str | None  # person / org: the item holds a 公民身份号码 / 统一社会信用代码
    reveals: frozenset[str] = frozenset()  # what the item in clear tells about others (masking.reveals)


@dataclass(frozen=True)
class ResourceMeta:
    resource_id: int
    code: str
    name: str
    version_id: int
    provider_department_id: int
    provider_code: str
    provider_name: str
    share_type: str
    items: dict[str, ItemMeta]

    @property
    def key(self) -> list[str]:
        return [f for f, item in self.items.items() if item.is_key]


@dataclass
class Access:
    """One data call: who, under which grant, on which resource; what it touched is added as it runs."""

    actor: Actor
    operator: str
    operation: str
    meta: ResourceMeta
    grant: ShareGrant
    table: Table | None
    rows: int = 0
    keys: list[str] = field(default_factory=list)
    subjects: set[str] = field(default_factory=set)
    detail: dict[str, Any] = field(default_factory=dict)
    used: tuple[int, int] | None = None  # the day's calls and rows before this call, read with the grant

    @property
    def items(self) -> list[str]:
        """Granted items still in the published catalog, in catalog order."""
        granted = set(self.grant.items)
        return [
            f for f in self.meta.items if f in granted and self.meta.items[f].share_type != ShareType.NONE
        ]

    @property
    def mask_rules(self) -> dict[str, str]:
        """Each granted item's mask rule, hardened against what the grant's clear items reveal (a birth
        date in clear makes identity numbers hide their sequence and check digits too)."""
        items, clear = self.items, self.clear
        rules = {f: self.meta.items[f].mask_rule for f in items}
        revealed: set[str] = set()
        for f in items:
            if rules[f] == "none" or f in clear:
                revealed |= self.meta.items[f].reveals
        return harden(rules, revealed)

    def masked(self, name: str) -> bool:
        """Whether the caller sees the granted item only masked."""
        return self.meta.items[name].mask_rule != "none" and name not in self.clear

    @property
    def clear(self) -> set[str]:
        return set(self.grant.clear_items)

    def key_label(self, record: Mapping[str, Any]) -> str:
        """The record's key as the audit log keeps it: masked by the key items' rules (the exact subjects
        are in the digest index)."""
        rules = self.mask_rules
        return "|".join(
            str(mask_value(rules.get(k, self.meta.items[k].mask_rule), record.get(k)) or "")
            for k in self.meta.key
        )

    def touch(self, records: Iterable[dict[str, Any]]) -> None:
        """Count returned records and note the keys and subjects they carry."""
        subject_fields = [f for f, item in self.meta.items.items() if item.subject]
        for record in records:
            self.rows += 1
            if len(self.keys) < 20:
                self.keys.append(self.key_label(record))
            for name in subject_fields:
                value = record.get(name)
                if value:
                    self.subjects.add(normalise_subject(str(value)))


# Keyed by database and resource: a process normally serves one database, but tests and tools open several.
_CACHE: dict[tuple[str, int], ResourceMeta] = {}
_CACHE_LOCK = threading.Lock()
# Record tables by resource and their registry signature (database, name, columns, key).
_TABLES: dict[tuple[int, str], Table] = {}


def _database(session: Session) -> str:
    bind = session.get_bind()
    return str(bind.engine.url)


def normalise_subject(value: str) -> str:
    return value.strip().upper()


def key_of(actor: Actor) -> dict[str, str]:
    """The API key behind a data call, as its audit entry names it: the prefix, never the secret."""
    return {"key": actor.api_key} if actor.api_key else {}


def filter_digest(key: bytes, item: ItemMeta, value: str) -> str:
    """A filter value as the audit keeps it: a 公民身份号码 or 统一社会信用代码 as its subject digest (the
    same as the index's), anything else as HMAC-SM3 under the audit key of item and value. Never the value."""
    if item.subject:
        return subject_digest(key, value)
    return hmac_sm3_hex(key, f"filter|{item.field}|{value}".encode())


def subject_digest(key: bytes, value: str) -> str:
    """HMAC-SM3 under the audit key of a 公民身份号码 or 统一社会信用代码: the index names nobody by
    itself, and only the node (holding the key) can look a number up."""
    return hmac_sm3_hex(key, f"subject|{normalise_subject(value)}".encode())


def _subject_of(standard_ref: str | None) -> str | None:
    for prefix, kind in SUBJECT_STANDARDS.items():
        if standard_ref and standard_ref.replace(" ", "").startswith(prefix.replace(" ", "")):
            return kind
    return None


def locate(session: Session, code: str) -> tuple[ResourceMeta, Table | None]:
    """The published resource's items and its record table, in one query on the hot path (the items
    come from the cache while the published version stays the same)."""
    found = SharingRepository(session).published_record_table(code)
    if found is None:
        raise NotFound(f"信息资源“{code}”不存在或未发布")
    resource_id, version_id, table_name, columns, key = found
    meta = _meta(session, code, resource_id, version_id)
    if table_name is None:
        return meta, None
    signature = f"{_database(session)}|{table_name}|{sorted(columns.items())}|{key}"
    table = _TABLES.get((resource_id, signature))
    if table is None:
        table = store.existing_table(session, resource_id)
        assert table is not None  # the registry row was just read
        with _CACHE_LOCK:
            _TABLES[(resource_id, signature)] = table
    return meta, table


def resource_meta(session: Session, code: str) -> ResourceMeta:
    return locate(session, code)[0]


def item_meta(
    field: str,
    name: str,
    data_type: str,
    mask_rule: str,
    share_type: str,
    *,
    is_key: bool,
    standard_ref: str | None,
) -> ItemMeta:
    """What a data call needs of a catalog item, with what its standard and name say it holds."""
    return ItemMeta(
        field=field,
        name=name,
        data_type=data_type,
        mask_rule=mask_rule,
        share_type=share_type,
        is_key=is_key,
        subject=_subject_of(standard_ref),
        reveals=reveals(name, data_type, standard_ref),
    )


def _meta(session: Session, code: str, resource_id: int, version_id: int) -> ResourceMeta:
    cache_key = (_database(session), resource_id)
    cached = _CACHE.get(cache_key)
    if cached is not None and cached.version_id == version_id:
        return cached
    resource = session.get_one(Resource, resource_id)
    version = session.get_one(ResourceVersion, version_id)
    department = session.get_one(Department, resource.department_id)
    items = SharingRepository(session).version_items(version_id)
    meta = ResourceMeta(
        resource_id=resource_id,
        code=code,
        name=version.name,
        version_id=version_id,
        provider_department_id=resource.department_id,
        provider_code=department.code,
        provider_name=department.name,
        share_type=version.share_type,
        items={
            i.field_name: item_meta(
                i.field_name,
                i.name,
                i.data_type,
                i.mask_rule,
                i.share_type or version.share_type,
                is_key=i.is_key,
                standard_ref=i.standard_ref,
            )
            for i in items
        },
    )
    with _CACHE_LOCK:
        _CACHE[cache_key] = meta
    return meta


def _day(now: datetime) -> date:
    return now.astimezone(BEIJING).date()


def _seconds_to_midnight(now: datetime) -> int:
    local = now.astimezone(BEIJING)
    midnight = datetime.combine(local.date() + timedelta(days=1), time.min, tzinfo=BEIJING)
    return int((midnight - local).total_seconds()) + 1


def _usage_key(meta: ResourceMeta, actor: Actor, now: datetime) -> dict[str, Any]:
    return {
        "day": _day(now),
        "resource_id": meta.resource_id,
        "application_id": int(actor.id or 0),  # the data API admits application actors only
        "provider_department_id": meta.provider_department_id,
        "consumer_department_id": actor.department_id or 0,
    }


def _refusal(meta: ResourceMeta, actor: Actor, now: datetime) -> Any:
    def count(session: Session) -> None:
        SharingRepository(session).count_usage(_usage_key(meta, actor, now), 0, 0, 1)

    return count


def deny(
    session: Session,
    meta: ResourceMeta,
    actor: Actor,
    message: str,
    operation: str,
    *,
    now: datetime | None = None,
) -> PermissionDenied:
    error = PermissionDenied(
        message,
        context=DenialContext(
            action=f"data.{operation}",
            permission="grant",
            target_type="resource",
            target_id=meta.code,
            extra=key_of(actor),
        ),
    )
    unit_of(session).after_rollback(_refusal(meta, actor, now or utcnow()))
    return error


def open_access(session: Session, actor: Actor, code: str, operation: str, operator: str) -> Access:
    """The caller's live grant on the resource, or a refusal (audited and counted)."""
    meta, table = locate(session, code)
    now = utcnow()
    if actor.kind != "application" or actor.id is None:
        raise PermissionDenied(
            "数据接口只接受应用系统的接口密钥调用",
            context=DenialContext(action=f"data.{operation}", permission="application", target_id=code),
        )
    if meta.share_type == ShareType.NONE:
        raise deny(session, meta, actor, "该资源为不予共享，任何应用都不能获取", operation, now=now)
    found = SharingRepository(session).live_grant_and_usage(int(actor.id), meta.resource_id, now, _day(now))
    if found is None:
        raise deny(
            session,
            meta,
            actor,
            "本应用没有该资源的有效授权（未申请、未获批准、已过期或已撤销）",
            operation,
            now=now,
        )
    grant, calls, rows = found
    return Access(actor, operator, operation, meta, grant, table, used=(calls, rows))


def check_quota(session: Session, access: Access, *, rows: int = 0) -> None:
    """Refuse (429) once the day's calls or rows of the grant are used up, or if `rows` more would
    exceed the rows left."""
    now = utcnow()
    calls_used, rows_used = access.used or SharingRepository(session).usage_today(
        _day(now), access.meta.resource_id, int(access.actor.id or 0)
    )
    grant = access.grant
    message = None
    if calls_used >= grant.requests_per_day:
        message = f"已达到授权的每日请求次数上限（{grant.requests_per_day} 次）"
    elif rows_used + rows > grant.rows_per_day:
        left = max(0, grant.rows_per_day - rows_used)
        message = (
            f"超出授权的每日记录数上限（{grant.rows_per_day} 条，今日剩余 {left} 条，本次需要 {rows} 条）"
        )
    if message:
        error = RateLimited(message + "，请明日再试或申请提高配额", retry_after=_seconds_to_midnight(now))
        unit_of(session).after_rollback(_refusal(access.meta, access.actor, now))
        raise error


def finish(session: Session, access: Access, *, target: str | None = None, calls: int = 1) -> None:
    """Audit the call and count it. In a data-API request the session is a read-only one and the writes
    are handed to the edge, which runs them in one short write transaction and commits before the
    response is sent (no response without its audit record); elsewhere they go into `session`."""
    unit_of(session).defer(lambda writer: _write(writer, access, target=target, calls=calls))


def _write(session: Session, access: Access, *, target: str | None, calls: int) -> None:
    now = utcnow()
    secret = node_config(session).audit_key
    digests = sorted({subject_digest(secret, value) for value in access.subjects})
    entry = audit.record(
        session,
        access.actor,
        f"data.{access.operation}",
        target_type="resource",
        target_id=target or access.meta.code,
        detail={
            "resource": access.meta.code,
            "grant": access.grant.id,
            **key_of(access.actor),
            "operator": access.operator,
            "rows": access.rows,
            "keys": ",".join(access.keys),
            **access.detail,
            # Whom the call touched, in the hashed content: the index below can be checked and rebuilt
            # from the chain (`index_service.verify_access_index`).
            "subjects": digests,
        },
    )
    index_subjects(session, entry.seq, digests, access.meta.resource_id)
    SharingRepository(session).count_usage(_usage_key(access.meta, access.actor, now), calls, access.rows, 0)


def index_subjects(session: Session, seq: int, digests: Iterable[str], resource_id: int) -> None:
    SharingRepository(session).add_subjects(
        [{"audit_seq": seq, "subject_digest": d, "resource_id": resource_id} for d in digests]
    )


def record_probe(
    session: Session, actor: Actor, operation: str, subject: str, operator: str, detail: dict[str, Any]
) -> None:
    """Audit and index a look-up that ran under no grant (一号通 with nothing granted for the number): the
    person or organisation probed still learns who asked. Deferred like `finish` in a data-API request."""

    def write(writer: Session) -> None:
        digest = subject_digest(node_config(writer).audit_key, subject)
        entry = audit.record(
            writer,
            actor,
            f"data.{operation}",
            target_type="subject",
            target_id=digest[:16],
            detail={**key_of(actor), "operator": operator, **detail, "subjects": [digest]},
        )
        index_subjects(writer, entry.seq, [digest], 0)

    unit_of(session).defer(write)

"""SQL of sharing: requests, grants, daily usage and access subjects."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, func, insert, or_, select, text
from sqlalchemy.orm import Session, selectinload

from govshare.auth.scope import RowScope, restrict
from govshare.models import (
    AccessSubject,
    Application,
    AuditEntry,
    Department,
    RecordTable,
    Resource,
    ResourceItem,
    ResourceVersion,
    ShareGrant,
    ShareRequest,
    UsageDaily,
)

_COUNT_USAGE = text(
    "INSERT INTO share_usage_daily (day, resource_id, application_id, provider_department_id, "
    "consumer_department_id, calls, rows, refusals) VALUES (:day, :resource_id, :application_id, "
    ":provider_department_id, :consumer_department_id, :calls, :rows, :refusals) "
    "ON CONFLICT (day, resource_id, application_id) DO UPDATE SET calls = share_usage_daily.calls + "
    "excluded.calls, rows = share_usage_daily.rows + excluded.rows, "
    "refusals = share_usage_daily.refusals + excluded.refusals"
)


def _in_force(now: datetime) -> tuple[Any, ...]:
    """What makes a grant live at `now` (the one definition): not revoked, within its validity."""
    return (
        ShareGrant.revoked_at.is_(None),
        ShareGrant.valid_from <= now,
        ShareGrant.valid_to > now,
    )


class SharingRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- requests -------------------------------------------------------------------------------------

    def _requests(self) -> Select[ShareRequest]:
        return select(ShareRequest).options(
            selectinload(ShareRequest.resource), selectinload(ShareRequest.application)
        )

    def request_by_number(self, number: str, *, lock: bool = False) -> ShareRequest | None:
        query = self._requests().where(ShareRequest.number == number)
        if lock:
            query = query.with_for_update()
        return self.session.scalars(query).one_or_none()

    def requests(
        self,
        scope: RowScope,
        *,
        side: str,
        states: Sequence[str] | None = None,
        resource_id: int | None = None,
        limit: int = 200,
    ) -> list[ShareRequest]:
        """Requests in scope, newest first; `side` narrows a department's view to where it is the
        consumer or the provider (node-wide readers see every request whatever the side)."""
        consumer, provider = ShareRequest.consumer_department_id, ShareRequest.provider_department_id
        columns = {"consumer": (consumer,), "provider": (provider,)}.get(side, (consumer, provider))
        query = restrict(self._requests().order_by(ShareRequest.id.desc()).limit(limit), scope, *columns)
        if states:
            query = query.where(ShareRequest.state.in_(states))
        if resource_id is not None:
            query = query.where(ShareRequest.resource_id == resource_id)
        return list(self.session.scalars(query))

    def open_request(
        self, application_id: int, resource_id: int, states: Sequence[str]
    ) -> ShareRequest | None:
        return self.session.scalars(
            select(ShareRequest).where(
                ShareRequest.application_id == application_id,
                ShareRequest.resource_id == resource_id,
                ShareRequest.state.in_(states),
            )
        ).first()

    def clocked(self, states: Sequence[str]) -> list[ShareRequest]:
        return list(
            self.session.scalars(
                self._requests().where(ShareRequest.state.in_(states), ShareRequest.due_at.is_not(None))
            )
        )

    def grant_refs_for(self, request_ids: Sequence[int]) -> dict[int, tuple[int, str | None]]:
        """Each request's latest grant and, if it no longer applies, why (revoked or superseded)."""
        latest = (
            select(func.max(ShareGrant.id))
            .where(ShareGrant.request_id.in_(request_ids))
            .group_by(ShareGrant.request_id)
        )
        rows = self.session.execute(
            select(ShareGrant.request_id, ShareGrant.id, ShareGrant.revoked_reason).where(
                ShareGrant.id.in_(latest)
            )
        )
        return {int(r): (int(g), why) for r, g, why in rows if r is not None}

    # --- grants ---------------------------------------------------------------------------------------

    def _grants(self) -> Select[ShareGrant]:
        return select(ShareGrant).options(
            selectinload(ShareGrant.resource), selectinload(ShareGrant.application)
        )

    def grant(self, grant_id: int) -> ShareGrant | None:
        return self.session.scalars(self._grants().where(ShareGrant.id == grant_id)).one_or_none()

    def grants(
        self,
        scope: RowScope,
        *,
        application_id: int | None = None,
        resource_id: int | None = None,
        limit: int = 500,
    ) -> list[ShareGrant]:
        query = restrict(
            self._grants().order_by(ShareGrant.id.desc()).limit(limit),
            scope,
            ShareGrant.consumer_department_id,
            ShareGrant.provider_department_id,
        )
        if application_id is not None:
            query = query.where(ShareGrant.application_id == application_id)
        if resource_id is not None:
            query = query.where(ShareGrant.resource_id == resource_id)
        return list(self.session.scalars(query))

    def unrevoked_grants(self, application_id: int, resource_id: int) -> list[ShareGrant]:
        return list(
            self.session.scalars(
                select(ShareGrant).where(
                    ShareGrant.application_id == application_id,
                    ShareGrant.resource_id == resource_id,
                    ShareGrant.revoked_at.is_(None),
                )
            )
        )

    def live_grant(self, application_id: int, resource_id: int, now: datetime) -> ShareGrant | None:
        """The grant a data call runs under: not revoked, within its validity."""
        return self.session.scalars(
            select(ShareGrant)
            .where(
                ShareGrant.application_id == application_id,
                ShareGrant.resource_id == resource_id,
                *_in_force(now),
            )
            .order_by(ShareGrant.id.desc())
        ).first()

    def live_grant_and_usage(
        self, application_id: int, resource_id: int, now: datetime, day: date
    ) -> tuple[ShareGrant, int, int] | None:
        """The live grant with the day's calls and rows so far, in one query (the data API's hot path)."""
        usage = and_(
            UsageDaily.day == day,
            UsageDaily.resource_id == resource_id,
            UsageDaily.application_id == application_id,
        )
        row = self.session.execute(
            select(ShareGrant, UsageDaily.calls, UsageDaily.rows)
            .outerjoin(UsageDaily, usage)
            .where(
                ShareGrant.application_id == application_id,
                ShareGrant.resource_id == resource_id,
                *_in_force(now),
            )
            .order_by(ShareGrant.id.desc())
            .limit(1)
        ).first()
        if row is None:
            return None
        grant, calls, rows = row
        return grant, int(calls or 0), int(rows or 0)

    def live_grants(self, application_id: int, now: datetime) -> list[ShareGrant]:
        return list(
            self.session.scalars(
                self._grants()
                .where(
                    ShareGrant.application_id == application_id,
                    *_in_force(now),
                )
                .order_by(ShareGrant.resource_id)
            )
        )

    # --- usage ----------------------------------------------------------------------------------------

    def usage_today(self, day: date, resource_id: int, application_id: int) -> tuple[int, int]:
        row = self.session.execute(
            select(UsageDaily.calls, UsageDaily.rows).where(
                UsageDaily.day == day,
                UsageDaily.resource_id == resource_id,
                UsageDaily.application_id == application_id,
            )
        ).first()
        return (int(row[0]), int(row[1])) if row else (0, 0)

    def count_usage(self, values: dict[str, Any], calls: int, rows: int, refusals: int) -> None:
        """Add to the day's counters in one upsert (no read-modify-write race between workers). Plain SQL:
        the same statement on SQLite and PostgreSQL, and cheaper per call than building the ORM insert."""
        self.session.execute(_COUNT_USAGE, {**values, "calls": calls, "rows": rows, "refusals": refusals})

    def usage(self, scope: RowScope, *, since: date, until: date, group: str) -> list[Any]:
        target = {
            "resource": (UsageDaily.resource_id, Resource.code, ResourceVersion.name),
            "provider": (UsageDaily.provider_department_id, Department.code, Department.name),
            "consumer": (UsageDaily.consumer_department_id, Department.code, Department.name),
            "application": (UsageDaily.application_id, Application.code, Application.name),
        }[group]
        column, code, name = target
        query = (
            select(
                code,
                func.max(name),
                func.sum(UsageDaily.calls),
                func.sum(UsageDaily.rows),
                func.sum(UsageDaily.refusals),
            )
            .where(UsageDaily.day >= since, UsageDaily.day <= until)
            .group_by(code)
            .order_by(func.sum(UsageDaily.calls).desc())
        )
        if group == "resource":
            query = query.join(Resource, Resource.id == column).join(
                ResourceVersion,
                and_(ResourceVersion.resource_id == Resource.id, ResourceVersion.state == "published"),
                isouter=True,
            )
        elif group == "application":
            query = query.join(Application, Application.id == column)
        else:
            query = query.join(Department, Department.id == column)
        query = restrict(query, scope, UsageDaily.provider_department_id, UsageDaily.consumer_department_id)
        return list(self.session.execute(query))

    def decided_requests(self, since: datetime) -> list[ShareRequest]:
        return list(
            self.session.scalars(
                select(ShareRequest).where(
                    ShareRequest.kind == "apply",
                    or_(ShareRequest.decided_at >= since, ShareRequest.decided_at.is_(None)),
                )
            )
        )

    # --- who looked at me -----------------------------------------------------------------------------

    def add_subjects(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.session.execute(insert(AccessSubject), rows)

    def accesses_of(self, digest: str, limit: int) -> list[tuple[AuditEntry, int]]:
        return [
            (entry, resource_id)
            for entry, resource_id in self.session.execute(
                select(AuditEntry, AccessSubject.resource_id)
                .join(AccessSubject, AccessSubject.audit_seq == AuditEntry.seq)
                .where(AccessSubject.subject_digest == digest)
                .order_by(AuditEntry.seq.desc())
                .limit(limit)
            )
        ]

    def data_entries(self, low: int, high: int) -> list[tuple[int, dict[str, Any]]]:
        """(seq, detail) of the data-call entries with low <= seq < high."""
        return [
            (int(seq), dict(detail or {}))
            for seq, detail in self.session.execute(
                select(AuditEntry.seq, AuditEntry.detail)
                .where(AuditEntry.seq >= low, AuditEntry.seq < high, AuditEntry.action.like("data.%"))
                .order_by(AuditEntry.seq)
            )
        ]

    def index_rows(self, low: int, high: int) -> list[tuple[int, str, int]]:
        """(audit seq, digest, resource id) of the index rows with low <= audit seq < high."""
        return [
            (int(seq), str(digest), int(resource_id))
            for seq, digest, resource_id in self.session.execute(
                select(AccessSubject.audit_seq, AccessSubject.subject_digest, AccessSubject.resource_id)
                .where(AccessSubject.audit_seq >= low, AccessSubject.audit_seq < high)
                .order_by(AccessSubject.audit_seq, AccessSubject.subject_digest)
            )
        ]

    def index_span(self) -> int:
        """One past the highest seq that the audit log or the index names."""
        top = self.session.execute(
            select(func.max(AuditEntry.seq)).union_all(select(func.max(AccessSubject.audit_seq)))
        ).scalars()
        return max((int(v) for v in top if v is not None), default=0) + 1

    def resource_ids(self) -> dict[str, int]:
        return {str(code): int(i) for code, i in self.session.execute(select(Resource.code, Resource.id))}

    def requested_and_granted_pairs(
        self, application_ids: list[int]
    ) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
        """(application id, resource id) pairs that already have a request, and those that have a grant."""
        requests = self.session.execute(
            select(ShareRequest.application_id, ShareRequest.resource_id).where(
                ShareRequest.application_id.in_(application_ids)
            )
        )
        grants = self.session.execute(
            select(ShareGrant.application_id, ShareGrant.resource_id).where(
                ShareGrant.application_id.in_(application_ids)
            )
        )
        return {(a, r) for a, r in requests}, {(a, r) for a, r in grants}

    def live_grant_of(self, department_id: int, resource_id: int, now: datetime) -> ShareGrant | None:
        """The newest grant in force now that the department holds on the resource (as consumer)."""
        return self.session.scalars(
            select(ShareGrant)
            .where(
                ShareGrant.consumer_department_id == department_id,
                ShareGrant.resource_id == resource_id,
                *_in_force(now),
            )
            .order_by(ShareGrant.id.desc())
            .limit(1)
        ).first()

    def published_record_table(self, code: str) -> Any:
        """(resource id, published version id, record table name, columns, key) of the active resource
        `code`, in one query on the data API's hot path; None when it is not published. The table name is
        None before the first batch."""
        return self.session.execute(
            select(
                Resource.id, ResourceVersion.id, RecordTable.table_name, RecordTable.columns, RecordTable.key
            )
            .join(ResourceVersion, ResourceVersion.resource_id == Resource.id)
            .outerjoin(RecordTable, RecordTable.resource_id == Resource.id)
            .where(
                Resource.code == code,
                Resource.status == "active",
                ResourceVersion.state == "published",
            )
        ).first()

    def version_items(self, version_id: int) -> list[ResourceItem]:
        """A catalog version's items in their order."""
        return list(
            self.session.scalars(
                select(ResourceItem)
                .where(ResourceItem.version_id == version_id)
                .order_by(ResourceItem.position)
            )
        )

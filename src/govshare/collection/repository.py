"""Queries over sources, batches and quarantine."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.orm import Session

from govshare.auth.scope import RowScope, restrict
from govshare.models import Batch, QuarantineRow, Resource, ResourceVersion, Source, SourceConnection


class CollectionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def batch(self, batch_id: int) -> Batch | None:
        return self.session.get(Batch, batch_id)

    def batches(
        self,
        scope: RowScope,
        *,
        resource_id: int | None = None,
        source_id: int | None = None,
        status: str | None = None,
        limit: int = 50,
    ) -> list[Batch]:
        """The newest batches in `scope`, filtered in SQL before the limit."""
        query = restrict(select(Batch).order_by(Batch.id.desc()).limit(limit), scope, Batch.department_id)
        if resource_id is not None:
            query = query.where(Batch.resource_id == resource_id)
        if source_id is not None:
            query = query.where(Batch.source_id == source_id)
        if status is not None:
            query = query.where(Batch.status == status)
        return list(self.session.scalars(query))

    def last_succeeded(self, resource_id: int, before: int) -> Batch | None:
        """The resource's latest succeeded batch before batch `before`."""
        return self.session.scalars(
            select(Batch)
            .where(Batch.resource_id == resource_id, Batch.status == "succeeded", Batch.id < before)
            .order_by(Batch.id.desc())
            .limit(1)
        ).first()

    def last_success_at(self, resource_id: int) -> datetime | None:
        """When a batch last loaded the resource successfully (any source)."""
        return self.session.scalar(
            select(func.max(Batch.finished_at)).where(
                Batch.resource_id == resource_id, Batch.status == "succeeded"
            )
        )

    def update_running(self, batch_id: int, **values: object) -> None:
        """Set columns of a batch that is still running (one UPDATE; a finished batch stays as it is)."""
        self.session.execute(
            update(Batch).where(Batch.id == batch_id, Batch.status == "running").values(**values)
        )

    def add_quarantine_rows(self, rows: list[dict[str, Any]]) -> None:
        """Insert quarantined rows in one executemany."""
        self.session.execute(insert(QuarantineRow), rows)

    def resolve_quarantined(self, parent_id: int, row_numbers: list[int], batch_id: int) -> None:
        """Mark the parent batch's unresolved error rows among `row_numbers` as loaded by `batch_id`."""
        for start in range(0, len(row_numbers), 1000):
            self.session.execute(
                update(QuarantineRow)
                .where(
                    QuarantineRow.batch_id == parent_id,
                    QuarantineRow.severity == "error",
                    QuarantineRow.resolved_by.is_(None),
                    QuarantineRow.row_no.in_(row_numbers[start : start + 1000]),
                )
                .values(resolved_by=batch_id)
            )

    def running(self, resource_id: int | None = None) -> list[Batch]:
        query = select(Batch).where(Batch.status == "running")
        if resource_id is not None:
            query = query.where(Batch.resource_id == resource_id)
        return list(self.session.scalars(query))

    def source(self, source_id: int) -> Source | None:
        return self.session.get(Source, source_id)

    def source_by_name(self, resource_id: int, name: str) -> Source | None:
        return self.session.scalars(
            select(Source).where(Source.resource_id == resource_id, Source.name == name)
        ).one_or_none()

    def sources(self, scope: RowScope) -> list[Source]:
        query = restrict(select(Source).order_by(Source.id), scope, Source.department_id)
        return list(self.session.scalars(query))

    def quarantine(
        self, batch_id: int, *, severity: str = "error", unresolved: bool = False, limit: int | None = None
    ) -> list[QuarantineRow]:
        query = (
            select(QuarantineRow)
            .where(QuarantineRow.batch_id == batch_id, QuarantineRow.severity == severity)
            .order_by(QuarantineRow.row_no, QuarantineRow.id)
        )
        if unresolved:
            query = query.where(QuarantineRow.resolved_by.is_(None))
        if limit is not None:
            query = query.limit(limit)
        return list(self.session.scalars(query))

    def add(self, obj: Source | Batch) -> None:
        self.session.add(obj)
        self.session.flush()

    def connection_by_name(self, name: str) -> SourceConnection | None:
        return self.session.scalars(
            select(SourceConnection).where(SourceConnection.name == name)
        ).one_or_none()

    def connections(self, scope: RowScope) -> list[SourceConnection]:
        query = select(SourceConnection).order_by(SourceConnection.name)
        return list(self.session.scalars(restrict(query, scope, SourceConnection.department_id)))

    def resource_labels(self, resource_ids: set[int]) -> dict[int, tuple[str | None, str | None]]:
        """Code and newest version name of each resource, in one query: a list of batches names their
        resources without a query per batch."""
        if not resource_ids:
            return {}
        newest = (
            select(ResourceVersion.resource_id, func.max(ResourceVersion.number).label("number"))
            .where(ResourceVersion.resource_id.in_(resource_ids))
            .group_by(ResourceVersion.resource_id)
            .subquery()
        )
        rows = self.session.execute(
            select(Resource.id, Resource.code, ResourceVersion.name)
            .outerjoin(newest, newest.c.resource_id == Resource.id)
            .outerjoin(
                ResourceVersion,
                and_(ResourceVersion.resource_id == Resource.id, ResourceVersion.number == newest.c.number),
            )
            .where(Resource.id.in_(resource_ids))
        )
        return {resource_id: (code, name) for resource_id, code, name in rows}

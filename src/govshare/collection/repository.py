"""Queries over sources, batches and quarantine."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.models import Batch, QuarantineRow, Source


class CollectionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def batch(self, batch_id: int) -> Batch | None:
        return self.session.get(Batch, batch_id)

    def batches(
        self,
        *,
        department_id: int | None = None,
        resource_id: int | None = None,
        status: str | None = None,
        limit: int = 50,
    ) -> list[Batch]:
        query = select(Batch).order_by(Batch.id.desc()).limit(limit)
        if department_id is not None:
            query = query.where(Batch.department_id == department_id)
        if resource_id is not None:
            query = query.where(Batch.resource_id == resource_id)
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

    def sources(self, *, department_id: int | None = None) -> list[Source]:
        query = select(Source).order_by(Source.id)
        if department_id is not None:
            query = query.where(Source.department_id == department_id)
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

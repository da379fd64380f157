"""Queries of the open-data service: the open datasets and the usage counters."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, func, select, text
from sqlalchemy.orm import Session, contains_eager, selectinload

from govshare.catalog.vocabulary import ResourceStatus, VersionState
from govshare.collection import store
from govshare.models import Batch, OpenUsageDaily, Resource, ResourceVersion

COUNTERS = ("page_views", "downloads_csv", "downloads_xlsx", "downloads_json", "api_calls")

# One upsert per request: the same statement on SQLite and PostgreSQL (as sharing counts its usage).
_COUNT = text(
    "INSERT INTO open_usage_daily (day, resource_id, page_views, downloads_csv, downloads_xlsx, "
    "downloads_json, api_calls) VALUES (:day, :resource_id, :page_views, :downloads_csv, :downloads_xlsx, "
    ":downloads_json, :api_calls) ON CONFLICT (day, resource_id) DO UPDATE SET "
    "page_views = open_usage_daily.page_views + excluded.page_views, "
    "downloads_csv = open_usage_daily.downloads_csv + excluded.downloads_csv, "
    "downloads_xlsx = open_usage_daily.downloads_xlsx + excluded.downloads_xlsx, "
    "downloads_json = open_usage_daily.downloads_json + excluded.downloads_json, "
    "api_calls = open_usage_daily.api_calls + excluded.api_calls"
)


def open_conditions() -> list[ColumnElement[bool]]:
    """A resource is open data: active, published, and its published version is 向社会开放."""
    return [
        Resource.status == ResourceStatus.ACTIVE.value,
        Resource.code.is_not(None),
        ResourceVersion.state == VersionState.PUBLISHED.value,
        ResourceVersion.open_to_public.is_(True),
    ]


class OpenDataRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def open_versions(self, *, code: str | None = None) -> list[ResourceVersion]:
        """Published versions of open resources, with the resource, its department and the items."""
        query = (
            select(ResourceVersion)
            .join(ResourceVersion.resource)
            .where(*open_conditions())
            .options(
                contains_eager(ResourceVersion.resource).joinedload(Resource.department),
                selectinload(ResourceVersion.items),
            )
            .order_by(Resource.id)
        )
        if code is not None:
            query = query.where(Resource.code == code)
        return list(self.session.scalars(query).unique())

    def last_batches(self, resource_ids: list[int]) -> dict[int, tuple[int, Any]]:
        """Per resource: the id and time of the last applied batch (the data's version)."""
        if not resource_ids:
            return {}
        rows = self.session.execute(
            select(Batch.resource_id, func.max(Batch.id), func.max(Batch.applied_at))
            .where(Batch.resource_id.in_(resource_ids), Batch.applied_at.is_not(None))
            .group_by(Batch.resource_id)
        ).all()
        return {rid: (int(bid), applied) for rid, bid, applied in rows}

    def count(self, day: date, resource_id: int, counter: str) -> None:
        if counter not in COUNTERS:
            raise ValueError(f"unknown open-data counter {counter!r}")
        values = {c: int(c == counter) for c in COUNTERS}
        self.session.execute(_COUNT, {"day": day, "resource_id": resource_id, **values})

    def totals(self) -> dict[str, int]:
        row = self.session.execute(
            select(*(func.coalesce(func.sum(getattr(OpenUsageDaily, c)), 0) for c in COUNTERS))
        ).one()
        return {c: int(v) for c, v in zip(COUNTERS, row, strict=True)}

    def per_resource(self) -> list[Any]:
        downloads = (
            OpenUsageDaily.downloads_csv + OpenUsageDaily.downloads_xlsx + OpenUsageDaily.downloads_json
        )
        return list(
            self.session.execute(
                select(
                    OpenUsageDaily.resource_id,
                    func.sum(OpenUsageDaily.page_views),
                    func.sum(downloads),
                    func.sum(OpenUsageDaily.api_calls),
                )
                .where(OpenUsageDaily.resource_id != 0)
                .group_by(OpenUsageDaily.resource_id)
            ).all()
        )

    def per_day(self, since: date) -> list[Any]:
        return list(
            self.session.execute(
                select(
                    OpenUsageDaily.day,
                    func.sum(OpenUsageDaily.downloads_csv),
                    func.sum(OpenUsageDaily.downloads_xlsx),
                    func.sum(OpenUsageDaily.downloads_json),
                    func.sum(OpenUsageDaily.api_calls),
                    func.sum(OpenUsageDaily.page_views),
                )
                .where(OpenUsageDaily.day >= since)
                .group_by(OpenUsageDaily.day)
            ).all()
        )


def current_records(table: Table, names: list[str], chunk: int) -> Select[Any]:
    """The opened columns `names` of a record table's current rows, in record order, streamed `chunk`
    rows at a time (the pre-generated download files)."""
    return (
        select(*(table.c[n] for n in names))
        .where(store.current(table))
        .order_by(table.c._sid)
        .execution_options(stream_results=True, yield_per=chunk)
    )


def current_record_count(session: Session, table: Table) -> int:
    """How many current records a record table holds."""
    query = select(func.count()).select_from(table).where(store.current(table))
    return int(session.execute(query).scalar() or 0)


def current_page(table: Table, columns: list[Any], *, offset: int, limit: int) -> Select[Any]:
    """A page of a record table's current rows (the opened `columns`), in record order."""
    return select(*columns).where(store.current(table)).order_by(table.c._sid).offset(offset).limit(limit)

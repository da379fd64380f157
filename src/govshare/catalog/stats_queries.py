"""The SQL of the catalog's statistics (catalog/stats_service.py): figures per resource and per
department, share-type mixes, first publications per month, versions in progress."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from govshare.auth.scope import RowScope, restrict
from govshare.catalog.vocabulary import ResourceStatus, VersionState
from govshare.core.db import beijing_period
from govshare.models import Department, Resource, ResourceItem, ResourceVersion


def _published_versions() -> Any:
    return (
        select(
            ResourceVersion.resource_id,
            ResourceVersion.id,
            ResourceVersion.share_type,
            ResourceVersion.open_to_public,
            ResourceVersion.category,
            ResourceVersion.update_cycle,
        )
        .where(ResourceVersion.state == VersionState.PUBLISHED.value)
        .subquery()
    )


def published_item_counts(session: Session) -> dict[int, int]:
    """Published version id -> its number of items."""
    published = _published_versions()
    counted = session.execute(
        select(ResourceItem.version_id, func.count())
        .where(ResourceItem.version_id.in_(select(published.c.id)))
        .group_by(ResourceItem.version_id)
    )
    return {row[0]: row[1] for row in counted}


def resources_in_review(session: Session) -> set[int]:
    """Ids of resources with a version waiting for review."""
    return set(
        session.scalars(
            select(ResourceVersion.resource_id).where(ResourceVersion.state == VersionState.SUBMITTED.value)
        )
    )


def resources_with_published_version(session: Session) -> list[Any]:
    """Every resource (id, department, status, first publication) with its published version's id, share
    type, openness, category and update cycle (None when it has none)."""
    published = _published_versions()
    return list(
        session.execute(
            select(
                Resource.id,
                Resource.department_id,
                Resource.status,
                Resource.first_published_at,
                published.c.id,
                published.c.share_type,
                published.c.open_to_public,
                published.c.category,
                published.c.update_cycle,
            ).outerjoin(published, published.c.resource_id == Resource.id)
        ).all()
    )


def departments(session: Session) -> list[Department]:
    return list(session.scalars(select(Department).order_by(Department.code)))


def _published_in_force() -> Any:
    return (
        select(Resource.department_id, ResourceVersion.share_type, ResourceVersion.open_to_public)
        .join(ResourceVersion, ResourceVersion.resource_id == Resource.id)
        .where(
            ResourceVersion.state == VersionState.PUBLISHED.value,
            Resource.status == ResourceStatus.ACTIVE.value,
        )
        .subquery()
    )


def share_counts(session: Session, department_id: int | None) -> list[Any]:
    """(share type, resources, of which open) of the resources in force, node-wide or of a department."""
    published = _published_in_force()
    query = select(
        published.c.share_type,
        func.count(),
        func.sum(case((published.c.open_to_public.is_(True), 1), else_=0)),
    ).group_by(published.c.share_type)
    if department_id is not None:
        query = query.where(published.c.department_id == department_id)
    return list(session.execute(query))


def first_published_by_month(session: Session, department_id: int | None) -> list[Any]:
    """(month in Beijing, resources first published that month), oldest first."""
    month = beijing_period(session, Resource.first_published_at, month=True)
    query = (
        select(month, func.count())
        .where(Resource.first_published_at.is_not(None))
        .group_by(month)
        .order_by(month)
    )
    if department_id is not None:
        query = query.where(Resource.department_id == department_id)
    return list(session.execute(query))


def status_counts(session: Session, department_id: int) -> list[Any]:
    """(resource status, resources) of a department."""
    return list(
        session.execute(
            select(Resource.status, func.count())
            .where(Resource.department_id == department_id)
            .group_by(Resource.status)
        )
    )


def open_version_states(session: Session, department_id: int) -> list[Any]:
    """(state, versions) of a department's versions being worked on: draft, submitted, returned."""
    return list(
        session.execute(
            select(ResourceVersion.state, func.count())
            .join(Resource, Resource.id == ResourceVersion.resource_id)
            .where(
                Resource.department_id == department_id,
                ResourceVersion.state.in_(
                    [VersionState.DRAFT.value, VersionState.SUBMITTED.value, VersionState.RETURNED.value]
                ),
            )
            .group_by(ResourceVersion.state)
        )
    )


def returned_count(session: Session, scope: RowScope) -> int:
    """Versions sent back by the reviewer, of the departments in scope."""
    query = (
        select(func.count())
        .select_from(ResourceVersion)
        .join(Resource, Resource.id == ResourceVersion.resource_id)
        .where(ResourceVersion.state == VersionState.RETURNED.value)
    )
    return int(session.scalar(restrict(query, scope, Resource.department_id)) or 0)


def share_mix(session: Session) -> list[Any]:
    """(department code, name, share type, resources in force), by department code."""
    published = _published_in_force()
    return list(
        session.execute(
            select(Department.code, Department.name, published.c.share_type, func.count())
            .join(published, published.c.department_id == Department.id)
            .group_by(Department.code, Department.name, published.c.share_type)
            .order_by(Department.code)
        )
    )

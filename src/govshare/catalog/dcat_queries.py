"""The SQL of the DCAT-AP export (catalog/dcat_service.py): which versions a harvester sees, the
catalog's dates, and one page of versions with their resource, department and items loaded."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, contains_eager, selectinload

from govshare.catalog.vocabulary import ResourceStatus, VersionState
from govshare.models import Resource, ResourceVersion


def published(since: datetime | None) -> list[ColumnElement[bool]]:
    """Published versions of active resources: never drafts, never withdrawn resources."""
    conditions = [
        Resource.status == ResourceStatus.ACTIVE.value,
        Resource.code.is_not(None),
        ResourceVersion.state == VersionState.PUBLISHED.value,
    ]
    if since is not None:
        conditions.append(Resource.updated_at >= since)
    return conditions


def catalog_figures(session: Session, since: datetime | None) -> tuple[Any, Any, Any, Any]:
    """(versions matching, first publication, last publication, last withdrawal), in one query."""
    was_published = ResourceVersion.state.in_((VersionState.PUBLISHED.value, VersionState.SUPERSEDED.value))
    total, issued, last_published, last_withdrawn = session.execute(
        select(
            select(func.count())
            .select_from(ResourceVersion)
            .join(ResourceVersion.resource)
            .where(*published(since))
            .scalar_subquery(),
            select(func.min(Resource.first_published_at)).scalar_subquery(),
            select(func.max(ResourceVersion.published_at)).where(was_published).scalar_subquery(),
            select(func.max(Resource.withdrawn_at)).scalar_subquery(),
        )
    ).one()
    return total, issued, last_published, last_withdrawn


def page_of_versions(
    session: Session, since: datetime | None, *, page: int, page_size: int
) -> list[ResourceVersion]:
    """One page of the matching versions, by resource id, with resource, department and items loaded."""
    return list(
        session.scalars(
            select(ResourceVersion)
            .join(ResourceVersion.resource)
            .where(*published(since))
            .options(
                contains_eager(ResourceVersion.resource).joinedload(Resource.department),
                selectinload(ResourceVersion.items),
            )
            .order_by(Resource.id)
            .limit(page_size)
            .offset((page - 1) * page_size)
        ).all()
    )

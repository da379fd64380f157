"""目录统计: the figures bureaus report (梳理 compiled, 发布 published, 无条件/有条件/不予),
per department and for the node, with zero-reporting departments and growth over time."""

from __future__ import annotations

from collections import Counter, defaultdict

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.auth.guard import action
from govshare.auth.permissions import Permission
from govshare.catalog.vocabulary import Category, ResourceStatus, ShareType, UpdateCycle, VersionState
from govshare.models import Department, Resource, ResourceItem, ResourceVersion


class Figures(BaseModel):
    compiled: int = 0  # 梳理: every resource in the catalog, published or not
    published: int = 0  # 发布: in force now
    unconditional: int = 0
    conditional: int = 0
    not_shared: int = 0
    open: int = 0
    in_review: int = 0
    withdrawn: int = 0
    items: int = 0


class DepartmentFigures(Figures):
    code: str
    name: str


class MonthCount(BaseModel):
    month: str
    published: int


class CatalogStats(BaseModel):
    node: Figures
    departments: list[DepartmentFigures]
    zero_departments: list[DepartmentFigures]
    by_category: dict[str, int]
    by_update_cycle: dict[str, int]
    first_published_by_month: list[MonthCount]


@action(Permission.CATALOG_READ)
def catalog_stats(session: Session, actor: Actor) -> CatalogStats:
    published = (
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
    counted = session.execute(
        select(ResourceItem.version_id, func.count())
        .where(ResourceItem.version_id.in_(select(published.c.id)))
        .group_by(ResourceItem.version_id)
    )
    item_counts: dict[int, int] = {row[0]: row[1] for row in counted}
    in_review = set(
        session.scalars(
            select(ResourceVersion.resource_id).where(ResourceVersion.state == VersionState.SUBMITTED.value)
        )
    )
    rows = session.execute(
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
    departments = list(session.scalars(select(Department).order_by(Department.code)))
    per: dict[int, Figures] = defaultdict(Figures)
    node = Figures()
    categories: Counter[str] = Counter()
    cycles: Counter[str] = Counter()
    months: Counter[str] = Counter()
    for rid, department_id, status, first_published, version_id, share, is_open, category, cycle in rows:
        for figures in (node, per[department_id]):
            figures.compiled += 1
            figures.in_review += rid in in_review
            figures.withdrawn += status == ResourceStatus.WITHDRAWN
            if status == ResourceStatus.ACTIVE and version_id is not None:
                figures.published += 1
                figures.unconditional += share == ShareType.UNCONDITIONAL
                figures.conditional += share == ShareType.CONDITIONAL
                figures.not_shared += share == ShareType.NONE
                figures.open += bool(is_open)
                figures.items += item_counts.get(version_id, 0)
        if status == ResourceStatus.ACTIVE and version_id is not None:
            categories[Category(category).label] += 1
            cycles[UpdateCycle(cycle).label] += 1
        if first_published is not None:
            months[first_published.strftime("%Y-%m")] += 1
    department_figures = [
        DepartmentFigures(code=d.code, name=d.name, **per[d.id].model_dump()) for d in departments
    ]
    return CatalogStats(
        node=node,
        departments=department_figures,
        zero_departments=[d for d in department_figures if d.compiled == 0],
        by_category=dict(categories),
        by_update_cycle=dict(cycles),
        first_published_by_month=[MonthCount(month=m, published=n) for m, n in sorted(months.items())],
    )

"""目录统计: the figures bureaus report (梳理 compiled, 发布 published, 无条件/有条件/不予),
per department and for the node, with zero-reporting departments and growth over time."""

from __future__ import annotations

from collections import Counter, defaultdict

from pydantic import BaseModel
from sqlalchemy.orm import Session

from govshare.auth import scope as row_scope
from govshare.auth.actor import Actor
from govshare.auth.guard import action, public_action
from govshare.auth.permissions import Permission
from govshare.catalog import stats_queries as queries
from govshare.catalog.vocabulary import Category, ResourceStatus, ShareType, UpdateCycle, VersionState
from govshare.core.clock import BEIJING


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
    item_counts = queries.published_item_counts(session)
    in_review = queries.resources_in_review(session)
    rows = queries.resources_with_published_version(session)
    departments = queries.departments(session)
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
            months[first_published.astimezone(BEIJING).strftime("%Y-%m")] += 1
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


# --- the portal's home page and department dashboard (aggregated in SQL) ---------------------------------


class PublicFigures(BaseModel):
    """Counts anyone may see on the home page: no names, no content."""

    published: int = 0
    unconditional: int = 0
    conditional: int = 0
    not_shared: int = 0
    open: int = 0


def _share_figures(session: Session, department_id: int | None) -> PublicFigures:
    figures = PublicFigures()
    for share, number, opened in queries.share_counts(session, department_id):
        figures.published += int(number)
        figures.open += int(opened or 0)
        if share == ShareType.UNCONDITIONAL:
            figures.unconditional += int(number)
        elif share == ShareType.CONDITIONAL:
            figures.conditional += int(number)
        elif share == ShareType.NONE:
            figures.not_shared += int(number)
    return figures


@public_action("the home page shows how many resources are published and their share-type mix: counts")
def public_figures(session: Session) -> PublicFigures:
    return _share_figures(session, None)


@public_action("the home page shows the catalog's growth: first publications per month, counts")
def growth_by_month(session: Session, *, department_id: int | None = None) -> list[MonthCount]:
    """Resources first published per month (months in Beijing time), oldest first."""
    rows = queries.first_published_by_month(session, department_id)
    return [MonthCount(month=str(m), published=int(n)) for m, n in rows]


class DepartmentCatalog(BaseModel):
    shares: PublicFigures
    by_status: dict[str, int]  # 未发布 / 在用 / 已下架 → resources
    by_version_state: dict[str, int]  # 草稿 / 待审核 / 已退回 → versions being worked on


@action(Permission.CATALOG_READ)
def department_catalog(session: Session, actor: Actor, department_id: int) -> DepartmentCatalog:
    """One department's resources by share type (published, in force), by status, and its versions in
    progress (the catalog is readable by every catalog reader, so are these counts)."""
    statuses = queries.status_counts(session, department_id)
    states = queries.open_version_states(session, department_id)
    by_status = {s.label: 0 for s in ResourceStatus}
    by_status.update({ResourceStatus(s).label: int(n) for s, n in statuses})
    by_state = {s.label: 0 for s in (VersionState.DRAFT, VersionState.SUBMITTED, VersionState.RETURNED)}
    by_state.update({VersionState(s).label: int(n) for s, n in states})
    return DepartmentCatalog(
        shares=_share_figures(session, department_id), by_status=by_status, by_version_state=by_state
    )


@action(Permission.CATALOG_EDIT)
def returned_versions(session: Session, actor: Actor) -> int:
    """Versions the reviewer sent back (已退回) that the actor's department (or, node-wide, anyone) must
    rework: the "待办" of an editor."""
    return queries.returned_count(session, row_scope.for_actor(actor, Permission.CATALOG_EDIT))


class DepartmentMix(BaseModel):
    code: str
    name: str
    unconditional: int = 0
    conditional: int = 0
    not_shared: int = 0


@action(Permission.CATALOG_READ)
def share_mix_by_department(session: Session, actor: Actor) -> list[DepartmentMix]:
    """Published resources in force per department and share type (one GROUP BY), departments with
    none left out."""
    rows = queries.share_mix(session)
    mix: dict[str, DepartmentMix] = {}
    field = {
        ShareType.UNCONDITIONAL.value: "unconditional",
        ShareType.CONDITIONAL.value: "conditional",
        ShareType.NONE.value: "not_shared",
    }
    for code, name, share, number in rows:
        entry = mix.setdefault(code, DepartmentMix(code=code, name=name))
        if share in field:
            setattr(entry, field[share], getattr(entry, field[share]) + int(number))
    return list(mix.values())

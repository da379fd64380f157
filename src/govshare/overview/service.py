"""What the node shows across domains: the home page's public figures, a user's work waiting (待办) and
which department's dashboard a user sees. No table of its own: each figure is the owning domain's guarded
service function, asked only when the actor may do that work, so the portal and the API
(`GET /api/v1/me/todo`) give the same answer."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from govshare.applications import service as applications
from govshare.auth.actor import Actor
from govshare.auth.guard import action, internal, public_action
from govshare.auth.permissions import Permission, Scope
from govshare.catalog import stats_service as catalog_stats
from govshare.collection import stats_service as collection_stats
from govshare.errors import DenialContext, PermissionDenied
from govshare.identity import service as identity
from govshare.models import Department
from govshare.sharing import stats_service as sharing_stats

# Who has a dashboard: a department's data staff see their own department, node-wide holders pick one.
DASHBOARD = (Permission.SHARING_STATS, Permission.COLLECTION_READ)
RECENT_CALL_DAYS = 30  # the home page's "近 30 天接口调用"


@dataclass(frozen=True)
class Todo:
    """One kind of work waiting for the actor: a stable code, its Chinese label, how many, and the portal
    page where it is done."""

    kind: str
    label: str
    count: int
    page: str


@public_action(
    "a caller's own work waiting: empty for the anonymous; each count is the owning domain's "
    "guarded action, asked only when the caller holds its permission"
)
def todos(session: Session, actor: Actor) -> list[Todo]:
    """The actor's work waiting, each kind only for who may do it."""
    if not actor.is_authenticated:
        return []
    found: list[Todo] = []
    if actor.scope_of(Permission.SHARING_APPROVE) or actor.scope_of(Permission.SHARING_SUPERVISE):
        found.append(
            Todo(
                "sharing.awaiting_me",
                "待我审批、审查或协调的共享申请",
                sharing_stats.awaiting_me(session, actor),
                "/sharing",
            )
        )
    if actor.scope_of(Permission.CATALOG_EDIT):
        found.append(
            Todo(
                "catalog.returned",
                "被退回待修改的目录",
                catalog_stats.returned_versions(session, actor),
                "/catalog/manage",
            )
        )
    if actor.scope_of(Permission.COLLECTION_READ):
        found.append(
            Todo(
                "collection.quarantined",
                "有待处理隔离记录的批次",
                collection_stats.quarantined_batches(session, actor),
                "/collection",
            )
        )
    return found


@dataclass(frozen=True)
class NodeFigures:
    """The node's public totals (counts only: no person, no department's detail)."""

    departments: int
    users: int
    applications: int
    published: int
    open: int
    records: int
    calls: int  # data API calls of the last RECENT_CALL_DAYS days
    unconditional: int
    conditional: int
    not_shared: int
    growth: list[tuple[str, int]]  # (month, resources published by then)


@public_action("the home page shows the node's totals to everyone: counts only")
def node_figures(session: Session) -> NodeFigures:
    people = identity.node_figures(session)
    shares = catalog_stats.public_figures(session)
    return NodeFigures(
        departments=people["departments"],
        users=people["users"],
        applications=applications.node_application_count(session),
        published=shares.published,
        open=shares.open,
        records=collection_stats.node_records_loaded(session),
        calls=sharing_stats.node_calls(session, days=RECENT_CALL_DAYS),
        unconditional=shares.unconditional,
        conditional=shares.conditional,
        not_shared=shares.not_shared,
        growth=[(m.month, m.published) for m in catalog_stats.growth_by_month(session)],
    )


@internal("a predicate on the actor's grants (may it pick any department's dashboard); reads nothing")
def node_wide(actor: Actor) -> bool:
    """May the actor look at any department's dashboard?"""
    return any(actor.scope_of(p) == Scope.ALL for p in DASHBOARD)


@dataclass(frozen=True)
class DashboardChoice:
    """The department a dashboard shows (None: the actor belongs to none and may pick none) and the ones
    the actor may pick from."""

    shown: Department | None
    choices: list[Department]
    node_wide: bool


@action(*DASHBOARD)
def dashboard_department(session: Session, actor: Actor, code: str | None) -> DashboardChoice:
    """Which department's dashboard the actor sees for the department `code` asked for (None: the actor's
    own, else the first). A department's staff see only their own: asking for another is refused."""
    if node_wide(actor):
        departments = identity.list_departments(session, actor)
        if code:
            return DashboardChoice(identity.get_department(session, actor, code), departments, True)
        own = [d for d in departments if d.id == actor.department_id]
        shown = own[0] if own else departments[0] if departments else None
        return DashboardChoice(shown, departments, True)
    if actor.department_id is None:
        return DashboardChoice(None, [], False)
    own_department = identity.get_department(session, actor, actor.department_code or "")
    if code and code != own_department.code:
        raise PermissionDenied(
            "只能查看本部门的看板",
            context=DenialContext(
                action="GET /dashboard",
                permission="|".join(DASHBOARD),
                target_type="department",
                target_id=code,
            ),
        )
    return DashboardChoice(own_department, [own_department], False)

"""Where a catalog resource stands in its review for its provider, and which actions a caller may take on
it there. Pure functions over what the service already loaded: the service puts both on every
`ResourceOut` (`state`, `state_label`, `allowed_actions`), so the API, the portal's workbench and any other
client read the same answer instead of re-deriving the lifecycle rules of `service.py`.

The answer is advice, not the check: each action in `service.py` checks its permission, scope and state
again when it runs.
"""

from __future__ import annotations

from enum import StrEnum

from govshare.auth.actor import Actor
from govshare.auth.permissions import Permission
from govshare.catalog import policies
from govshare.catalog.vocabulary import ResourceStatus, VersionState


class Stage(StrEnum):
    """Where a resource stands for its provider: its open version's state, else published or withdrawn."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return STAGE_LABELS[self]


STAGE_LABELS = {
    Stage.DRAFT: "草稿",
    Stage.SUBMITTED: "待审核",
    Stage.RETURNED: "已退回",
    Stage.PUBLISHED: "已发布",
    Stage.WITHDRAWN: "已下架",
}


class CatalogAction(StrEnum):
    """What a caller may do with a resource (the names of the service's actions on it)."""

    EDIT = "edit"  # save a draft (a new version, once published): service.save_draft
    SUBMIT = "submit"  # submit the open draft for review: service.submit
    APPROVE = "approve"  # approve and publish: service.approve
    RETURN = "return"  # return for changes: service.return_for_changes
    WITHDRAW = "withdraw"  # 下架: service.withdraw


def stage(*, pending_state: str | None, status: str, published: bool) -> Stage:
    """The stage of a resource from its open version's state (None when none is open, or the caller may
    not see it), its status and whether a version is published."""
    if pending_state is not None:
        return Stage(VersionState(pending_state).value)
    if status == ResourceStatus.WITHDRAWN:
        return Stage.WITHDRAWN
    if published:
        return Stage.PUBLISHED
    return Stage.DRAFT


EDITABLE = frozenset({Stage.DRAFT, Stage.RETURNED, Stage.PUBLISHED, Stage.WITHDRAWN})  # not while in review
SUBMITTABLE = frozenset({Stage.DRAFT, Stage.RETURNED})


def allowed_actions(actor: Actor, *, provider_code: str, at: Stage, status: str) -> list[CatalogAction]:
    """The actions `actor` may take on a resource of the department `provider_code` standing at `at`, in
    the order a page offers them."""
    allowed = []
    if policies.acts_for(actor, Permission.CATALOG_EDIT, provider_code):
        if at in EDITABLE:
            allowed.append(CatalogAction.EDIT)
        if at in SUBMITTABLE:
            allowed.append(CatalogAction.SUBMIT)
    if actor.scope_of(Permission.CATALOG_REVIEW) and at == Stage.SUBMITTED:
        allowed += [CatalogAction.APPROVE, CatalogAction.RETURN]
    withdrawable = status == ResourceStatus.ACTIVE
    if withdrawable and policies.acts_for(actor, Permission.CATALOG_WITHDRAW, provider_code):
        allowed.append(CatalogAction.WITHDRAW)
    return allowed

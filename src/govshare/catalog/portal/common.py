"""What the catalog compiling pages (目录编制) share: the permissions they check, the CSRF check and the
303 redirect of every form, who may act on a resource of which department, where a resource stands in its
review (`state_of`) and how a time is shown. The pages are in drafts.py (create and edit a draft),
workbench.py (the workbench, review, withdrawal) and excel.py (the Excel template); the draft form itself is
draft_form.py.
"""

from __future__ import annotations

from fastapi import Path
from starlette.datastructures import FormData

from govshare.auth.actor import Actor
from govshare.auth.permissions import Permission, Scope
from govshare.catalog.schemas import ResourceOut
from govshare.errors import DenialContext, PermissionDenied
from govshare.web.forms import beijing as beijing
from govshare.web.forms import check_csrf as check_csrf

EDIT, REVIEW, WITHDRAW = Permission.CATALOG_EDIT, Permission.CATALOG_REVIEW, Permission.CATALOG_WITHDRAW
RESOURCE_ID = Path(ge=1, le=2**31 - 1)
TEXT = 2000

STATE_TAGS = {
    "draft": "tag-open",
    "submitted": "tag-conditional",
    "returned": "tag-none",
    "published": "tag-unconditional",
    "withdrawn": "tag-none",
}


def form_text(data: FormData, name: str) -> str:
    """A text field of a posted form; "" when it is missing or a file."""
    value = data.get(name)
    return value if isinstance(value, str) else ""


def may(actor: Actor, permission: Permission, provider_code: str) -> bool:
    """Whether the actor holds `permission` for resources of the department `provider_code`."""
    scope = actor.scope_of(permission)
    return scope == Scope.ALL or (scope == Scope.OWN_DEPARTMENT and actor.department_code == provider_code)


def refuse(actor: Actor, permission: Permission, out: ResourceOut, what: str) -> None:
    """Refuse (403) unless the actor may `what` (编辑, …) the resource of its provider department."""
    if not may(actor, permission, out.provider_code):
        raise PermissionDenied(
            f"只能{what}本部门的信息资源（“{out.name}”的提供方为{out.provider_name}）",
            context=DenialContext(
                action=f"portal.catalog.{permission.split(':')[1]}",
                permission=permission,
                target_type="catalog_resource",
                target_id=out.code or str(out.id),
            ),
        )


def state_of(out: ResourceOut) -> tuple[str, str]:
    """Where the resource stands for its provider: the open version's state, else published/withdrawn."""
    if out.pending is not None:
        return out.pending.state, out.pending.state_label
    if out.status == "withdrawn":
        return "withdrawn", "已下架"
    if out.current is not None:
        return "published", "已发布"
    return "draft", "草稿"

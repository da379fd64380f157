"""What the catalog compiling pages (目录编制) share: the permissions they check, the CSRF check and the
303 redirect of every form, the refusal of a page about another department's resource, the tag each stage
is shown with and how a time is shown.

Who may act on what, and where a resource stands in its review, are the domain's (`catalog/policies.py`
`acts_for`, `catalog/workflow.py`): the pages read them from the `ResourceOut` the service returns (`state`,
`state_label`, `allowed_actions`), as API clients do. The pages are in drafts.py (create and edit a draft),
workbench.py (the workbench, review, withdrawal) and excel.py (the Excel template); the draft form itself is
draft_form.py.
"""

from __future__ import annotations

from fastapi import Path
from starlette.datastructures import FormData

from govshare.auth.actor import Actor
from govshare.auth.permissions import Permission
from govshare.catalog.policies import acts_for
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


def refuse(actor: Actor, permission: Permission, out: ResourceOut, what: str) -> None:
    """Refuse (403) unless the actor may `what` (编辑, …) the resource of its provider department."""
    if not acts_for(actor, permission, out.provider_code):
        raise PermissionDenied(
            f"只能{what}本部门的信息资源（“{out.name}”的提供方为{out.provider_name}）",
            context=DenialContext(
                action=f"portal.catalog.{permission.split(':')[1]}",
                permission=permission,
                target_type="catalog_resource",
                target_id=out.code or str(out.id),
            ),
        )

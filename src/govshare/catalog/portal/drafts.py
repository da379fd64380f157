"""Portal pages for compiling the catalog (目录编制): a 数据管理员 creates a resource with its data items
and edits its draft (a new version, once published), saves it or submits it for review, in a plain HTML
form that works without JavaScript.

The workbench, review and withdrawal are in workbench.py, the Excel template page in excel.py; the draft
form itself (parsing, Chinese messages) is draft_form.py.

Every page calls the catalog services (the same as /api/v1/catalog); every action is a POST with the CSRF
token that redirects (303) to the resource's page; invalid input shows the form again (422) with what the
person typed kept. A refusal of the service is raised through `web/forms.py` `form_errors`: the request's
unit of work rolls the action back and the form is shown again, with each error next to its field.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from govshare.auth.actor import Actor
from govshare.catalog import service
from govshare.catalog.portal.common import EDIT, RESOURCE_ID, check_csrf, form_text, refuse
from govshare.catalog.portal.draft_form import (
    LABELS,
    MORE_ROWS,
    POSTED,
    ROWS,
    DraftForm,
    explain,
    from_definition,
    from_post,
    to_definition,
    validated,
)
from govshare.catalog.schemas import ResourceOut
from govshare.catalog.vocabulary import (
    THEMES,
    BaseKind,
    Category,
    DataType,
    FormatCategory,
    MaskRule,
    ShareMethod,
    ShareType,
    UpdateCycle,
    VersionState,
)
from govshare.catalog.workflow import CatalogAction
from govshare.core.node import node_config
from govshare.errors import Conflict, DenialContext, InvalidInput, PermissionDenied
from govshare.web.deps import DB_SESSION, require
from govshare.web.forms import error_status, form_errors, see_other
from govshare.web.rendering import render

router = APIRouter(include_in_schema=False)


def _grades(session: Session) -> list[str]:
    return [g.label for g in node_config(session).jurisdiction.catalog.grades]


def _form_page(
    request: Request,
    session: Session,
    actor: Actor,
    form: DraftForm,
    *,
    resource: ResourceOut | None,
    status: int = 200,
    notice: str | None = None,
) -> HTMLResponse:
    return render(
        request,
        "catalog_edit.html",
        actor,
        status=status,
        form=form,
        resource=resource,
        provider_name=resource.provider_name if resource else actor.department_code,
        notice=notice,
        categories=Category.choices(),
        kinds=BaseKind.choices(),
        themes=THEMES,
        format_categories=FormatCategory.choices(),
        share_types=ShareType.choices(),
        share_methods=ShareMethod.choices(),
        cycles=UpdateCycle.choices(),
        data_types=[(t.value, t.label) for t in DataType],
        masks=MaskRule.choices(),
        grades=_grades(session),
        labels=LABELS,
    )


def _provider(actor: Actor) -> str:
    if not actor.department_code or actor.scope_of(EDIT) is None:
        raise PermissionDenied(
            "只有部门的数据管理员可以编制本部门的目录",
            context=DenialContext(action="portal.catalog.create", permission=EDIT),
        )
    return actor.department_code


@router.get("/catalog/new", response_class=HTMLResponse)
def new_page(request: Request, session: Session = DB_SESSION, actor: Actor = require(EDIT)) -> HTMLResponse:
    _provider(actor)
    form = DraftForm(values={"open": "否"})
    form.pad(ROWS)
    return _form_page(request, session, actor, form, resource=None)


@router.post("/catalog/new")
def new_submit(
    request: Request,
    data: FormData = POSTED,
    session: Session = DB_SESSION,
    actor: Actor = require(EDIT),
) -> Response:
    check_csrf(request, form_text(data, "csrf_token"))
    provider = _provider(actor)
    form = from_post(data)
    todo = form_text(data, "action")
    if todo == "more":
        form.pad(len(form.rows) + MORE_ROWS)
        return _form_page(request, session, actor, form, resource=None)
    definition = validated(form, provider)
    if definition is None:
        return _form_page(request, session, actor, form, resource=None, status=422)
    with _shown_again_on_refusal(request, actor, form, provider, resource=None):
        created = service.create_resource(session, actor, definition)
    if todo == "submit":
        return _submit_after_save(request, session, actor, created.id, form)
    return see_other(f"/catalog/manage/{created.id}?done=created")


def _shown_again_on_refusal(
    request: Request, actor: Actor, form: DraftForm, provider: str, *, resource: ResourceOut | None
) -> AbstractContextManager[None]:
    """Show the form again when the service refuses what it says: the refusal's errors go next to their
    fields (`explain`), the request's unit of work rolls the action back, the page is built afresh."""

    def put_on_form(exc: Exception) -> str:
        explain(form, exc, to_definition(form, provider)[1])
        return "；".join(form.errors)

    return form_errors(
        lambda session, _state, status: _form_page(
            request, session, actor, form, resource=resource, status=status
        ),
        explain_error=put_on_form,
    )


def _submit_after_save(
    request: Request, session: Session, actor: Actor, resource_id: int, form: DraftForm
) -> Response:
    """Submit the just-saved draft; when the rules refuse it, keep the draft and show why."""
    try:
        service.check_submission(session, actor, resource_id)  # changes nothing
    except (InvalidInput, Conflict) as exc:
        # Not `form_errors`: the draft just saved must stay saved whatever the submission says, so this
        # page is answered normally and the request's unit of work commits the draft (the check wrote
        # nothing to roll back).
        resource = service.get_resource(session, actor, resource_id)
        explain(form, exc, to_definition(form, resource.provider_code)[1])
        return _form_page(
            request,
            session,
            actor,
            form,
            resource=resource,
            status=error_status(exc),
            notice="草稿已保存，但还不能提交审核，请按下列提示修改：",
        )
    service.submit(session, actor, resource_id)
    return see_other(f"/catalog/manage/{resource_id}?done=submitted")


def _editable(session: Session, actor: Actor, resource_id: int) -> ResourceOut:
    resource = service.get_resource(session, actor, resource_id)
    refuse(actor, EDIT, resource, "编辑")
    if CatalogAction.EDIT not in resource.allowed_actions:  # its provider may edit it, but not in review
        raise Conflict("该信息资源已提交审核，审核完成前不能修改")
    return resource


@router.get("/catalog/drafts/{resource_id}/edit", response_class=HTMLResponse)
def edit_page(
    request: Request,
    resource_id: int = RESOURCE_ID,
    session: Session = DB_SESSION,
    actor: Actor = require(EDIT),
) -> HTMLResponse:
    resource = _editable(session, actor, resource_id)
    version = resource.pending or resource.current
    form = from_definition(version.definition if version else {})
    notice = None
    if resource.pending is None and resource.current is not None:
        notice = "该资源已发布：保存后生成新版本的草稿，审核通过前现行版本继续有效。"
    if resource.pending is not None and resource.pending.state == VersionState.RETURNED:
        notice = f"审核员退回了这个版本：{resource.pending.review_comment or ''}"
    return _form_page(request, session, actor, form, resource=resource, notice=notice)


@router.post("/catalog/drafts/{resource_id}/edit")
def edit_submit(
    request: Request,
    resource_id: int = RESOURCE_ID,
    data: FormData = POSTED,
    session: Session = DB_SESSION,
    actor: Actor = require(EDIT),
) -> Response:
    check_csrf(request, form_text(data, "csrf_token"))
    resource = _editable(session, actor, resource_id)
    form = from_post(data)
    todo = form_text(data, "action")
    if todo == "more":
        form.pad(len(form.rows) + MORE_ROWS)
        return _form_page(request, session, actor, form, resource=resource)
    definition = validated(form, resource.provider_code)
    if definition is None:
        return _form_page(request, session, actor, form, resource=resource, status=422)
    if resource.code:
        definition = definition.model_copy(update={"code": resource.code})
    with _shown_again_on_refusal(request, actor, form, resource.provider_code, resource=resource):
        service.save_draft(session, actor, resource_id, definition)
    if todo == "submit":
        return _submit_after_save(request, session, actor, resource_id, form)
    return see_other(f"/catalog/manage/{resource_id}?done=saved")

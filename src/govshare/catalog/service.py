"""The catalog lifecycle: draft → submitted → published (or returned), new versions of published resources
reviewed while the old one stays in force, withdrawal that keeps the record; every transition audited."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from govshare.audit import service as audit
from govshare.auth.actor import Actor
from govshare.auth.guard import action, require_scope
from govshare.auth.permissions import Permission, Scope
from govshare.catalog import codes, content, policies, rules, search_service, workflow
from govshare.catalog.repository import OPEN_STATES, CatalogRepository
from govshare.catalog.schemas import (
    ApplyOutcome,
    ApplyReport,
    FieldChange,
    ItemChange,
    ResourceDefinition,
    ResourceOut,
    VersionDiff,
    VersionOut,
)
from govshare.catalog.vocabulary import ResourceStatus, VersionState
from govshare.core.clock import utcnow
from govshare.core.node import node_config
from govshare.errors import Conflict, DenialContext, FieldError, InvalidInput, NotFound, PermissionDenied
from govshare.jurisdiction import CatalogRules
from govshare.models import Department, Resource, ResourceVersion

# ---------------------------------------------------------------- helpers


def _rules(session: Session) -> CatalogRules:
    return node_config(session).jurisdiction.catalog


def _published(resource: Resource) -> ResourceVersion | None:
    return next((v for v in resource.versions if v.state == VersionState.PUBLISHED), None)


def _pending(resource: Resource) -> ResourceVersion | None:
    return next((v for v in resource.versions if v.state in OPEN_STATES), None)


def _resource(session: Session, actor: Actor, resource_id: int) -> Resource:
    resource = CatalogRepository(session).by_id(resource_id)
    if resource is None or (
        _published(resource) is None
        and resource.status != ResourceStatus.WITHDRAWN
        and not policies.sees_unpublished(actor, resource.department_id)
    ):
        raise NotFound(f"信息资源 {resource_id} 不存在")
    return resource


def _department(session: Session, code: str) -> Department:
    department = CatalogRepository(session).department(code)
    if department is None:
        raise InvalidInput.on("provider", f"提供方部门“{code}”不存在")
    return department


def _check_edit(actor: Actor, resource_or_department_id: int, action_name: str, target: str) -> None:
    require_scope(
        actor,
        Permission.CATALOG_EDIT,
        department_id=resource_or_department_id,
        action_name=action_name,
        target_type="catalog_resource",
        target_id=target,
    )


def _violations(session: Session, version: ResourceVersion, provider_code: str) -> None:
    overrides = {o["rule"] for o in version.overrides}
    current = content.of_version(version, provider_code)
    found = rules.check(
        current,
        _rules(session),
        overrides=overrides,
        # only the related codes this version names, not the whole catalog on every publication
        existing_codes=CatalogRepository(session).published_codes(among=current["related"]),
    )
    if found:
        raise InvalidInput("；".join(f"{e.field}：{e.message}" for e in found), errors=found)


def _version_out(version: ResourceVersion, provider_code: str, cat_rules: CatalogRules) -> VersionOut:
    return VersionOut(
        number=version.number,
        state=version.state,
        state_label=VersionState(version.state).label,
        definition=content.to_definition(content.of_version(version, provider_code), cat_rules, None),
        overrides=list(version.overrides),
        created_by=version.created_by,
        created_at=version.created_at,
        submitted_by=version.submitted_by,
        submitted_at=version.submitted_at,
        reviewed_by=version.reviewed_by,
        reviewed_at=version.reviewed_at,
        review_comment=version.review_comment,
        published_at=version.published_at,
    )


def _out(session: Session, actor: Actor, resource: Resource) -> ResourceOut:
    cat_rules = _rules(session)
    published, pending = _published(resource), _pending(resource)
    show_pending = pending is not None and policies.sees_unpublished(actor, resource.department_id)
    newest = published or (resource.versions[-1] if resource.versions else None)
    at = workflow.stage(
        pending_state=pending.state if show_pending and pending else None,
        status=resource.status,
        published=published is not None,
    )
    return ResourceOut(
        id=resource.id,
        code=resource.code,
        provider_code=resource.department.code,
        provider_name=resource.department.name,
        status=resource.status,
        status_label=ResourceStatus(resource.status).label,
        state=at.value,
        state_label=at.label,
        allowed_actions=workflow.allowed_actions(
            actor, provider_code=resource.department.code, at=at, status=resource.status
        ),
        name=newest.name if newest else "",
        current=_version_out(published, resource.department.code, cat_rules) if published else None,
        pending=_version_out(pending, resource.department.code, cat_rules)
        if show_pending and pending
        else None,
        created_at=resource.created_at,
        updated_at=resource.updated_at,
        first_published_at=resource.first_published_at,
        withdrawn_at=resource.withdrawn_at,
        withdrawn_reason=resource.withdrawn_reason,
    )


def _audit(session: Session, actor: Actor, event: str, resource: Resource, **detail: Any) -> None:
    audit.record(
        session,
        actor,
        f"catalog.{event}",
        target_type="catalog_resource",
        target_id=resource.code or str(resource.id),
        detail={k: str(v) for k, v in detail.items()},
    )


# ---------------------------------------------------------------- reading


@action(Permission.CATALOG_READ)
def get_resource(session: Session, actor: Actor, resource_id: int) -> ResourceOut:
    return _out(session, actor, _resource(session, actor, resource_id))


@action(Permission.CATALOG_READ)
def get_by_code(session: Session, actor: Actor, code: str) -> ResourceOut:
    resource = CatalogRepository(session).by_code(code)
    if resource is None:
        raise NotFound(f"信息资源代码“{code}”不存在")
    return _out(session, actor, resource)


@action(Permission.CATALOG_READ)
def list_versions(session: Session, actor: Actor, resource_id: int) -> list[VersionOut]:
    resource = _resource(session, actor, resource_id)
    visible = [
        v
        for v in resource.versions
        if v.state in (VersionState.PUBLISHED, VersionState.SUPERSEDED)
        or policies.sees_unpublished(actor, resource.department_id)
    ]
    return [_version_out(v, resource.department.code, _rules(session)) for v in visible]


@action(Permission.CATALOG_READ)
def list_resources(
    session: Session, actor: Actor, *, department_code: str | None = None, state: str | None = None
) -> list[ResourceOut]:
    """The workbench list: a department's resources in every state it may see."""
    department_id = _department(session, department_code).id if department_code else None
    try:
        states = (VersionState.parse(state).value,) if state else None
    except ValueError as exc:
        raise InvalidInput.on("state", str(exc)) from exc
    resources = CatalogRepository(session).find(department_id=department_id, states=states)
    return [
        _out(session, actor, r)
        for r in resources
        if _published(r) is not None or policies.sees_unpublished(actor, r.department_id)
    ]


@action(Permission.CATALOG_REVIEW)
def review_queue(session: Session, actor: Actor) -> list[ResourceOut]:
    resources = CatalogRepository(session).find(states=(VersionState.SUBMITTED.value,))
    return [_out(session, actor, r) for r in resources]


# ---------------------------------------------------------------- editing


@action(Permission.CATALOG_EDIT)
def create_resource(session: Session, actor: Actor, definition: ResourceDefinition) -> ResourceOut:
    department = _department(session, definition.provider)
    _check_edit(actor, department.id, "catalog.create_resource", definition.name)
    repo = CatalogRepository(session)
    if definition.code and repo.by_code(definition.code):
        raise Conflict(f"信息资源代码“{definition.code}”已被使用")
    if repo.by_provider_and_name(department.id, definition.name):
        raise Conflict(f"{department.name}已有名为“{definition.name}”的信息资源")
    resource = _new_resource(session, actor, department, definition)
    return _out(session, actor, resource)


def _new_resource(
    session: Session, actor: Actor, department: Department, definition: ResourceDefinition
) -> Resource:
    normalized = content.normalize(definition, _rules(session))
    now = utcnow()
    resource = Resource(
        department_id=department.id,
        status=ResourceStatus.NEW.value,
        created_at=now,
        updated_at=now,
        versions=[],
    )
    resource.department = department
    version = ResourceVersion(
        number=1,
        state=VersionState.DRAFT.value,
        created_by=actor.name,
        created_at=now,
        updated_at=now,
        overrides=[],
    )
    content.write(version, normalized)
    resource.versions.append(version)
    CatalogRepository(session).add(resource)
    _audit(session, actor, "create", resource, name=definition.name, version=1)
    return resource


def _save(
    session: Session, actor: Actor, resource: Resource, normalized: content.Content
) -> ResourceVersion | None:
    """Put `normalized` into the open version (creating one from the published version if needed).
    Returns None when nothing changes."""
    pending = _pending(resource)
    base = pending or resource.versions[-1]
    if content.same(content.of_version(base, resource.department.code), normalized):
        return None
    if pending is not None and pending.state == VersionState.SUBMITTED:
        raise Conflict("该信息资源已提交审核，审核完成前不能修改")
    now = utcnow()
    if pending is None:
        pending = ResourceVersion(
            number=resource.versions[-1].number + 1,
            state=VersionState.DRAFT.value,
            created_by=actor.name,
            created_at=now,
            overrides=[],
        )
        resource.versions.append(pending)
    else:
        pending.items = []
        session.flush()  # old items go before new ones with the same field names arrive
    pending.state = VersionState.DRAFT.value
    pending.updated_at = now
    content.write(pending, normalized)
    resource.updated_at = now
    session.flush()
    _audit(session, actor, "edit", resource, version=pending.number)
    return pending


@action(Permission.CATALOG_EDIT)
def save_draft(
    session: Session, actor: Actor, resource_id: int, definition: ResourceDefinition
) -> ResourceOut:
    resource = _resource(session, actor, resource_id)
    _check_edit(actor, resource.department_id, "catalog.save_draft", resource.code or str(resource.id))
    if definition.provider != resource.department.code:
        raise InvalidInput.on("provider", "不能更改信息资源的提供方")
    if definition.code and definition.code != resource.code:
        raise InvalidInput.on("code", "信息资源代码由平台在发布时生成，不能修改")
    _save(session, actor, resource, content.normalize(definition, _rules(session)))
    return _out(session, actor, resource)


def _submittable(session: Session, actor: Actor, resource: Resource) -> ResourceVersion:
    """The open draft `actor` may submit now, or the refusal `submit` would raise (nothing changed)."""
    _check_edit(actor, resource.department_id, "catalog.submit", resource.code or str(resource.id))
    pending = _pending(resource)
    if pending is None or pending.state == VersionState.SUBMITTED:
        raise Conflict("没有可提交审核的草稿" if pending is None else "已提交审核，请等待审核结果")
    _violations(session, pending, resource.department.code)
    return pending


@action(Permission.CATALOG_EDIT)
def check_submission(session: Session, actor: Actor, resource_id: int) -> None:
    """Raise what `submit` would refuse (no draft, already in review, the cataloguing rules), changing
    nothing: a form that saves and submits at once keeps the saved draft and shows why it cannot go on."""
    _submittable(session, actor, _resource(session, actor, resource_id))


@action(Permission.CATALOG_EDIT)
def submit(session: Session, actor: Actor, resource_id: int) -> ResourceOut:
    resource = _resource(session, actor, resource_id)
    pending = _submittable(session, actor, resource)
    now = utcnow()
    pending.state, pending.submitted_by, pending.submitted_at = VersionState.SUBMITTED.value, actor.name, now
    resource.updated_at = now
    session.flush()
    _audit(session, actor, "submit", resource, version=pending.number)
    return _out(session, actor, resource)


def _submitted(resource: Resource) -> ResourceVersion:
    pending = _pending(resource)
    if pending is None or pending.state != VersionState.SUBMITTED:
        raise Conflict("该信息资源没有待审核的版本")
    return pending


@action(Permission.CATALOG_REVIEW)
def approve(session: Session, actor: Actor, resource_id: int, comment: str = "") -> ResourceOut:
    resource = _resource(session, actor, resource_id)
    version = _submitted(resource)
    _violations(session, version, resource.department.code)  # rules may have changed since submission
    _publish(session, actor, resource, version, comment)
    return _out(session, actor, resource)


def _publish(
    session: Session, actor: Actor, resource: Resource, version: ResourceVersion, comment: str
) -> None:
    now = utcnow()
    previous = _published(resource)
    if previous is not None:
        previous.state = VersionState.SUPERSEDED.value
    version.state, version.reviewed_by, version.reviewed_at = VersionState.PUBLISHED.value, actor.name, now
    version.review_comment, version.published_at = comment or None, now
    if resource.code is None:
        resource.code = codes.next_code(session, version, resource.department.code, _rules(session))
        resource.first_published_at = now
    resource.status, resource.updated_at = ResourceStatus.ACTIVE.value, now
    resource.withdrawn_at = resource.withdrawn_reason = None
    session.flush()
    search_service.index_version(session, resource, version)
    _audit(session, actor, "publish", resource, version=version.number, comment=comment)


@action(Permission.CATALOG_REVIEW)
def return_for_changes(session: Session, actor: Actor, resource_id: int, comment: str) -> ResourceOut:
    if not comment.strip():
        raise InvalidInput.on("comment", "退回时须写明审核意见")
    resource = _resource(session, actor, resource_id)
    version = _submitted(resource)
    now = utcnow()
    version.state, version.reviewed_by, version.reviewed_at = VersionState.RETURNED.value, actor.name, now
    version.review_comment = comment
    resource.updated_at = now
    session.flush()
    _audit(session, actor, "return", resource, version=version.number, comment=comment)
    return _out(session, actor, resource)


@action(Permission.CATALOG_WITHDRAW)
def withdraw(session: Session, actor: Actor, resource_id: int, reason: str) -> ResourceOut:
    """下架: the resource leaves search and sharing; its record and versions are kept."""
    if len(reason.strip()) < 2:  # the API's `Reason` says the same; the portal and the CLI come here
        raise InvalidInput.on("reason", "请写明下架理由（至少 2 个字）")
    resource = _resource(session, actor, resource_id)
    require_scope(
        actor,
        Permission.CATALOG_WITHDRAW,
        department_id=resource.department_id,
        action_name="catalog.withdraw",
        target_type="catalog_resource",
        target_id=resource.code,
    )
    if resource.status != ResourceStatus.ACTIVE:
        raise Conflict("只有已发布的信息资源才能下架")
    now = utcnow()
    resource.status, resource.withdrawn_at, resource.withdrawn_reason = (
        ResourceStatus.WITHDRAWN.value,
        now,
        reason,
    )
    resource.updated_at = now
    search_service.unindex(session, resource.id)
    session.flush()
    _audit(session, actor, "withdraw", resource, reason=reason)
    return _out(session, actor, resource)


@action(Permission.CATALOG_OVERRIDE)
def override_rule(session: Session, actor: Actor, resource_id: int, rule: str, reason: str) -> ResourceOut:
    """A platform admin exempts the open version from an overridable rule, with the reason on record."""
    if rule not in rules.OVERRIDABLE:
        raise InvalidInput.on("rule", f"只能豁免以下规则：{'、'.join(rules.OVERRIDABLE)}")
    resource = _resource(session, actor, resource_id)
    pending = _pending(resource)
    if pending is None:
        raise Conflict("没有正在编制或审核的版本")
    if pending.state == VersionState.SUBMITTED and actor.scope_of(Permission.CATALOG_OVERRIDE) != Scope.ALL:
        raise PermissionDenied(
            "审核中的版本只能由平台管理员豁免",
            context=DenialContext("catalog.override_rule", Permission.CATALOG_OVERRIDE),
        )
    pending.overrides = [
        *pending.overrides,
        {"rule": rule, "reason": reason, "by": actor.name, "at": utcnow().isoformat()},
    ]
    session.flush()
    _audit(session, actor, "override", resource, rule=rule, reason=reason, version=pending.number)
    return _out(session, actor, resource)


# ---------------------------------------------------------------- versions


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if key == "items":
            continue
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


@action(Permission.CATALOG_READ)
def diff_versions(
    session: Session, actor: Actor, resource_id: int, from_number: int, to_number: int
) -> VersionDiff:
    resource = _resource(session, actor, resource_id)
    visible = {
        v.number: v
        for v in resource.versions
        if v.state in (VersionState.PUBLISHED, VersionState.SUPERSEDED)
        or policies.sees_unpublished(actor, resource.department_id)
    }
    missing = [n for n in (from_number, to_number) if n not in visible]
    if missing:
        raise NotFound(f"信息资源 {resource_id} 没有第 {missing[0]} 版")
    code = resource.department.code
    before, after = (
        content.of_version(visible[from_number], code),
        content.of_version(visible[to_number], code),
    )
    flat_before, flat_after = _flatten(before), _flatten(after)
    fields = [
        FieldChange(field=k, before=flat_before.get(k), after=flat_after.get(k))
        for k in sorted(flat_before.keys() | flat_after.keys())
        if flat_before.get(k) != flat_after.get(k)
    ]
    items_before = {i["field"]: i for i in before["items"]}
    items_after = {i["field"]: i for i in after["items"]}
    items: list[ItemChange] = []
    for name in [*items_before, *(f for f in items_after if f not in items_before)]:
        old, new = items_before.get(name), items_after.get(name)
        if old is None:
            items.append(ItemChange(field_name=name, change="added"))
        elif new is None:
            items.append(ItemChange(field_name=name, change="removed"))
        elif old != new:
            changes = [FieldChange(field=k, before=old[k], after=new[k]) for k in old if old[k] != new.get(k)]
            items.append(ItemChange(field_name=name, change="changed", changes=changes))
    return VersionDiff(
        resource_id=resource.id, from_version=from_number, to_version=to_number, fields=fields, items=items
    )


# ---------------------------------------------------------------- catalog as code


def _prefixed(error: InvalidInput, index: int) -> list[FieldError]:
    return [FieldError(f"resources[{index}].{e.field}", e.message) for e in error.errors] or [
        FieldError(f"resources[{index}]", error.message)
    ]


@action(Permission.CATALOG_EDIT)
def apply_definitions(
    session: Session, actor: Actor, definitions: list[ResourceDefinition], *, publish: bool = False
) -> ApplyReport:
    """Create or update resources from definitions; idempotent. All or nothing: any error in any
    resource raises, naming every error by its position, and the edge rolls everything back."""
    if publish and not actor.scope_of(Permission.CATALOG_REVIEW):
        raise PermissionDenied(
            "直接发布需要目录审核权限",
            context=DenialContext("catalog.apply_definitions", Permission.CATALOG_REVIEW),
        )
    repo, cat_rules = CatalogRepository(session), _rules(session)
    errors: list[FieldError] = []
    outcomes: list[ApplyOutcome] = []
    for index, definition in enumerate(definitions):
        try:
            outcomes.append(_apply_one(session, actor, repo, cat_rules, definition, publish))
        except InvalidInput as exc:
            errors.extend(_prefixed(exc, index))
        except Conflict as exc:
            errors.append(FieldError(f"resources[{index}]", exc.message))
    if errors:
        raise InvalidInput("；".join(f"{e.field}：{e.message}" for e in errors[:20]), errors=errors)
    return ApplyReport(
        created=sum(o.action == "created" for o in outcomes),
        updated=sum(o.action == "updated" for o in outcomes),
        unchanged=sum(o.action == "unchanged" for o in outcomes),
        published=sum(o.published for o in outcomes),
        resources=outcomes,
    )


def _apply_one(
    session: Session,
    actor: Actor,
    repo: CatalogRepository,
    cat_rules: CatalogRules,
    definition: ResourceDefinition,
    publish: bool,
) -> ApplyOutcome:
    department = _department(session, definition.provider)
    _check_edit(actor, department.id, "catalog.apply_definitions", definition.name)
    normalized = content.normalize(definition, cat_rules)
    resource = (
        repo.by_code(definition.code)
        if definition.code
        else repo.by_provider_and_name(department.id, definition.name)
    )
    if definition.code and resource is None:
        raise InvalidInput.on(
            "code", f"信息资源代码“{definition.code}”不存在；新资源请不填代码，发布时自动生成"
        )
    if resource is not None and resource.department_id != department.id:
        raise InvalidInput.on("provider", "不能更改信息资源的提供方")
    if resource is None:
        resource, result = _new_resource(session, actor, department, definition), "created"
    else:
        result = "updated" if _save(session, actor, resource, normalized) else "unchanged"
    published = False
    pending = _pending(resource)
    if publish and pending is not None:
        _violations(session, pending, department.code)
        if pending.state != VersionState.SUBMITTED:
            pending.submitted_by, pending.submitted_at = actor.name, utcnow()
        _publish(session, actor, resource, pending, "按目录定义文件发布")
        published = True
    return ApplyOutcome(
        name=definition.name,
        provider=department.code,
        resource_id=resource.id,
        code=resource.code,
        action=result,
        published=published,
    )


@action(Permission.CATALOG_READ)
def export_definitions(
    session: Session, actor: Actor, *, department_code: str | None = None, include_unpublished: bool = False
) -> list[dict[str, Any]]:
    """The catalog as definitions (docs/catalog-as-code.md): published versions, or for resources the
    actor may edit and `include_unpublished`, the open version."""
    department_id = _department(session, department_code).id if department_code else None
    cat_rules, out = _rules(session), []
    for resource in CatalogRepository(session).all_for_export(department_id):
        version = _published(resource) if resource.status == ResourceStatus.ACTIVE else None
        if include_unpublished and policies.sees_unpublished(actor, resource.department_id):
            version = _pending(resource) or version
        if version is not None:
            out.append(
                content.to_definition(
                    content.of_version(version, resource.department.code), cat_rules, resource.code
                )
            )
    return out

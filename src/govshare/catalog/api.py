"""/api/v1/catalog: search, resources and their lifecycle, versions, catalog as code."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Query
from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.auth.permissions import Permission
from govshare.catalog import search_service, service, stats_service
from govshare.catalog.schemas import (
    ApplyReport,
    CatalogFile,
    Comment,
    OverrideIn,
    Reason,
    ResourceDefinition,
    ResourceOut,
    VersionDiff,
    VersionOut,
)
from govshare.catalog.search_service import SearchQuery, SearchResult
from govshare.catalog.stats_service import CatalogStats
from govshare.web.deps import DB_SESSION, require

router = APIRouter(prefix="/api/v1/catalog", tags=["目录系统"])

READ = Permission.CATALOG_READ
EDIT = Permission.CATALOG_EDIT
REVIEW = Permission.CATALOG_REVIEW
RESOURCE_ID = Path(ge=1, le=2**31 - 1, description="信息资源编号")


@router.get("/search", summary="检索目录（全文、筛选、分面统计）")
def search(
    q: str = Query("", max_length=100, description="关键词：资源名称、摘要、信息项名称"),
    provider: list[str] = Query([], max_length=50, description="提供方部门代码，可多个"),
    category: str | None = Query(None, max_length=16, description="基础 / 主题 / 部门"),
    classification: str | None = Query(None, max_length=40, description="如 base:population、theme:社会保障"),
    share_type: str | None = Query(None, max_length=16, description="无条件 / 有条件 / 不予"),
    open: bool | None = Query(None, description="是否向社会开放"),
    update_cycle: str | None = Query(None, max_length=16),
    grade: str | None = Query(None, max_length=16),
    page: int = Query(1, ge=1, le=10_000),
    page_size: int = Query(20, ge=1, le=search_service.MAX_PAGE_SIZE),
    session: Session = DB_SESSION,
    actor: Actor = require(READ),
) -> SearchResult:
    query = SearchQuery(
        q=q,
        provider=provider,
        category=category,
        classification=classification,
        share_type=share_type,
        open=open,
        update_cycle=update_cycle,
        grade=grade,
        page=page,
        page_size=page_size,
    )
    return search_service.search(session, actor, query)


@router.get("/resources", summary="目录工作台：本部门及可见的信息资源")
def list_resources(
    department: str | None = Query(None, max_length=32),
    state: str | None = Query(None, max_length=16, description="草稿 / 待审核 / 已退回 / 已发布"),
    session: Session = DB_SESSION,
    actor: Actor = require(READ),
) -> list[ResourceOut]:
    return service.list_resources(session, actor, department_code=department, state=state)


@router.post("/resources", status_code=201, summary="新建信息资源（草稿）")
def create_resource(
    body: ResourceDefinition, session: Session = DB_SESSION, actor: Actor = require(EDIT)
) -> ResourceOut:
    return service.create_resource(session, actor, body)


@router.get("/resources/{resource_id}", summary="信息资源详情")
def get_resource(
    resource_id: int = RESOURCE_ID, session: Session = DB_SESSION, actor: Actor = require(READ)
) -> ResourceOut:
    return service.get_resource(session, actor, resource_id)


@router.get("/codes/{code}", summary="按信息资源代码查询")
def get_by_code(code: str, session: Session = DB_SESSION, actor: Actor = require(READ)) -> ResourceOut:
    return service.get_by_code(session, actor, code)


@router.put("/resources/{resource_id}/draft", summary="修改草稿（已发布资源则生成新版本）")
def save_draft(
    body: ResourceDefinition,
    resource_id: int = RESOURCE_ID,
    session: Session = DB_SESSION,
    actor: Actor = require(EDIT),
) -> ResourceOut:
    return service.save_draft(session, actor, resource_id, body)


@router.post("/resources/{resource_id}/submit", summary="提交审核")
def submit(
    resource_id: int = RESOURCE_ID, session: Session = DB_SESSION, actor: Actor = require(EDIT)
) -> ResourceOut:
    return service.submit(session, actor, resource_id)


@router.post("/resources/{resource_id}/approve", summary="审核通过并发布")
def approve(
    body: Comment,
    resource_id: int = RESOURCE_ID,
    session: Session = DB_SESSION,
    actor: Actor = require(REVIEW),
) -> ResourceOut:
    return service.approve(session, actor, resource_id, body.comment)


@router.post("/resources/{resource_id}/return", summary="退回修改（须写明意见）")
def return_for_changes(
    body: Comment,
    resource_id: int = RESOURCE_ID,
    session: Session = DB_SESSION,
    actor: Actor = require(REVIEW),
) -> ResourceOut:
    return service.return_for_changes(session, actor, resource_id, body.comment)


@router.post("/resources/{resource_id}/withdraw", summary="下架（保留记录）")
def withdraw(
    body: Reason,
    resource_id: int = RESOURCE_ID,
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.CATALOG_WITHDRAW),
) -> ResourceOut:
    return service.withdraw(session, actor, resource_id, body.reason)


@router.post("/resources/{resource_id}/overrides", summary="规则豁免（平台管理员，须写明理由）")
def override_rule(
    body: OverrideIn,
    resource_id: int = RESOURCE_ID,
    session: Session = DB_SESSION,
    actor: Actor = require(Permission.CATALOG_OVERRIDE),
) -> ResourceOut:
    return service.override_rule(session, actor, resource_id, body.rule, body.reason)


@router.get("/resources/{resource_id}/versions", summary="版本列表")
def list_versions(
    resource_id: int = RESOURCE_ID, session: Session = DB_SESSION, actor: Actor = require(READ)
) -> list[VersionOut]:
    return service.list_versions(session, actor, resource_id)


@router.get("/resources/{resource_id}/diff", summary="两个版本的差异")
def diff(
    resource_id: int = RESOURCE_ID,
    from_version: int = Query(..., alias="from", ge=1, le=100_000),
    to_version: int = Query(..., alias="to", ge=1, le=100_000),
    session: Session = DB_SESSION,
    actor: Actor = require(READ),
) -> VersionDiff:
    return service.diff_versions(session, actor, resource_id, from_version, to_version)


@router.get("/review-queue", summary="待审核的信息资源")
def review_queue(session: Session = DB_SESSION, actor: Actor = require(REVIEW)) -> list[ResourceOut]:
    return service.review_queue(session, actor)


@router.post("/apply", summary="按目录定义（目录即代码）创建或更新，幂等")
def apply(
    body: CatalogFile,
    publish: bool = Query(False, description="直接发布（需要审核权限）"),
    session: Session = DB_SESSION,
    actor: Actor = require(EDIT),
) -> ApplyReport:
    return service.apply_definitions(session, actor, body.resources, publish=publish)


@router.get("/export", summary="导出目录定义（目录即代码）")
def export(
    department: str | None = Query(None, max_length=32),
    include_unpublished: bool = False,
    session: Session = DB_SESSION,
    actor: Actor = require(READ),
) -> dict[str, Any]:
    return {
        "resources": service.export_definitions(
            session, actor, department_code=department, include_unpublished=include_unpublished
        )
    }


@router.get("/stats", summary="目录统计")
def stats(session: Session = DB_SESSION, actor: Actor = require(READ)) -> CatalogStats:
    return stats_service.catalog_stats(session, actor)

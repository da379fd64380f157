"""/api/v1/inventory: the information-system inventory (政务信息系统清单) and its statistics."""

from __future__ import annotations

from fastapi import APIRouter, Path, Query
from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.auth.permissions import Permission
from govshare.inventory import policies, service
from govshare.inventory.schemas import InventoryStats, SystemCreate, SystemOut, SystemUpdate
from govshare.web.deps import DB_SESSION, require

router = APIRouter(prefix="/api/v1/inventory", tags=["政务信息系统清单"])

READ = Permission.INVENTORY_READ
EDIT = Permission.INVENTORY_EDIT
SYSTEM_CODE = Path(min_length=2, max_length=64, pattern=policies.SYSTEM_CODE_PATTERN, description="系统代码")


@router.get("/systems", summary="信息系统列表")
def list_systems(
    department: str | None = Query(None, max_length=32, pattern=r"^[A-Za-z0-9_-]+$", description="部门代码"),
    usage_range: str | None = Query(
        None, max_length=16, description="使用范围：单机 / 处室内部 / 部门内部 / 跨部门（代码或中文）"
    ),
    connected: bool | None = Query(None, description="是否已接入共享交换平台"),
    session: Session = DB_SESSION,
    actor: Actor = require(READ),
) -> list[SystemOut]:
    return service.list_systems(
        session, actor, department_code=department, usage_range=usage_range, connected=connected
    )


@router.post("/systems", status_code=201, summary="登记信息系统")
def create_system(
    body: SystemCreate, session: Session = DB_SESSION, actor: Actor = require(EDIT)
) -> SystemOut:
    return service.create_system(session, actor, body)


@router.get("/systems/{code}", summary="信息系统详情（含其产生的已发布目录资源数）")
def get_system(
    code: str = SYSTEM_CODE, session: Session = DB_SESSION, actor: Actor = require(READ)
) -> SystemOut:
    return service.get_system(session, actor, code)


@router.put("/systems/{code}", summary="修改信息系统（整体替换，代码不变）")
def update_system(
    body: SystemUpdate,
    code: str = SYSTEM_CODE,
    session: Session = DB_SESSION,
    actor: Actor = require(EDIT),
) -> SystemOut:
    return service.update_system(session, actor, code, body)


@router.get("/stats", summary="信息系统统计：数量、使用范围与频度、经费、接入与共享情况、建设年份")
def stats(session: Session = DB_SESSION, actor: Actor = require(READ)) -> InventoryStats:
    return service.inventory_stats(session, actor)

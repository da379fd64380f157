"""/api/v1/connections: the registry of source database connections. The platform administrator
(connection:manage) registers, disables and tests them; a department's data stewards (collection:run) read
their own department's (name, kind, allowed tables). No answer carries a URL."""

from __future__ import annotations

from fastapi import APIRouter, Path
from pydantic import BaseModel
from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.collection import connections
from govshare.collection.connections import MANAGE, RUN, ConnectionCreate, ConnectionOut
from govshare.web.deps import DB_SESSION, require

router = APIRouter(prefix="/api/v1/connections", tags=["数据源连接"])

NAME = Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_\-\u4e00-\u9fff]+$", description="连接名称")


class ProbeResult(BaseModel):
    ok: bool
    message: str


@router.get("", summary="数据源连接列表（部门人员只见本部门的）")
def list_connections(
    session: Session = DB_SESSION, actor: Actor = require(MANAGE, RUN)
) -> list[ConnectionOut]:
    return connections.list_connections(session, actor)


@router.post("", status_code=201, summary="登记数据源连接（平台管理员）")
def add_connection(
    body: ConnectionCreate, session: Session = DB_SESSION, actor: Actor = require(MANAGE)
) -> ConnectionOut:
    return connections.add_connection(session, actor, body)


@router.get("/{name}", summary="一个数据源连接")
def get_connection(
    name: str = NAME, session: Session = DB_SESSION, actor: Actor = require(MANAGE, RUN)
) -> ConnectionOut:
    return connections.get_connection(session, actor, name)


@router.post("/{name}/disable", summary="停用数据源连接")
def disable(name: str = NAME, session: Session = DB_SESSION, actor: Actor = require(MANAGE)) -> ConnectionOut:
    return connections.set_enabled(session, actor, name, False)


@router.post("/{name}/enable", summary="重新启用数据源连接")
def enable(name: str = NAME, session: Session = DB_SESSION, actor: Actor = require(MANAGE)) -> ConnectionOut:
    return connections.set_enabled(session, actor, name, True)


@router.post("/{name}/test", summary="测试数据源连接（失败原因只写入节点日志）")
def probe_command(
    name: str = NAME, session: Session = DB_SESSION, actor: Actor = require(MANAGE)
) -> ProbeResult:
    message = connections.check_connection(session, actor, name)
    return ProbeResult(ok="成功" in message, message=message)

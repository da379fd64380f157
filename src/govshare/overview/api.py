"""/api/v1: the caller's work waiting (待办), the same list the portal's home page shows."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.overview import service
from govshare.overview.schemas import TodoOut
from govshare.web.deps import DB_SESSION, authenticated

router = APIRouter(prefix="/api/v1", tags=["概览"])


@router.get("/me/todo", summary="我的待办（按我的权限，每项只给能办理的人）")
def my_todo(session: Session = DB_SESSION, actor: Actor = authenticated()) -> list[TodoOut]:
    return [TodoOut.of(t) for t in service.todos(session, actor)]

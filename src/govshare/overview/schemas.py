"""Response models of the overview API."""

from __future__ import annotations

from pydantic import BaseModel, Field

from govshare.overview.service import Todo


class TodoOut(BaseModel):
    kind: str = Field(description="稳定代码：sharing.awaiting_me、catalog.returned、collection.quarantined")
    label: str = Field(description="待办事项的中文名称")
    count: int = Field(description="待办件数")
    page: str = Field(description="门户中办理该事项的页面")

    @classmethod
    def of(cls, todo: Todo) -> TodoOut:
        return cls(kind=todo.kind, label=todo.label, count=todo.count, page=todo.page)

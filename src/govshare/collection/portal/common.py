"""What the collection pages (数据归集) share: the Chinese labels of batch states, phases, source kinds and
counts, the outcome notices, messages for invalid input, and the catalog look-ups. The pages are in
sources.py (the overview and the data sources), guided.py (registering a file source from a sample) and
batches.py (a batch and its quarantined rows); uploads are read by uploads.py.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.auth.permissions import Permission, Scope
from govshare.catalog import service as catalog
from govshare.catalog.schemas import ResourceOut
from govshare.catalog.vocabulary import UpdateCycle
from govshare.collection.policies import RUN
from govshare.errors import GovshareError
from govshare.identity import service as identity
from govshare.web import forms
from govshare.web.forms import beijing
from govshare.web.forms import check_csrf as check_csrf

STATUS = {
    "running": ("运行中", "tag-open"),
    "succeeded": ("成功", "tag-unconditional"),
    "failed": ("失败", "tag-none"),
}
PHASES = {"reading": "读取与校验", "merging": "比对入库", "done": "已结束"}
KINDS = {
    "csv": "CSV 文件",
    "tsv": "TSV 文件",
    "xlsx": "Excel 文件（.xlsx）",
    "xls": "Excel 文件（.xls）",
    "json": "JSON 文件",
    "ndjson": "NDJSON 文件",
    "postgresql": "PostgreSQL 数据库",
    "mysql": "MySQL 数据库",
    "sqlite": "SQLite 数据库",
    "push": "系统推送",
}
SUFFIXES = {
    "csv": (".csv", ".txt"),
    "tsv": (".tsv", ".txt"),
    "xlsx": (".xlsx",),
    "xls": (".xls",),
    "json": (".json",),
    "ndjson": (".ndjson", ".jsonl"),
}
MODES = {"full": "全量", "incremental": "增量"}
BATCH_KINDS = {"run": "运行", "push": "推送", "reprocess": "重新处理"}
COUNT_LABELS = {
    "inserted": "新增",
    "updated": "更新",
    "unchanged": "未变",
    "superseded": "批内被覆盖",
    "deleted": "删除",
    "empty": "空行",
    "rejected": "隔离",
}
DONE = {
    "registered": "数据源已登记。",
    "started": "批次已开始，页面会自动刷新显示进度。",
}
FIELD_LABELS = {"resource": "信息资源", "name": "数据源名称", "mapping": "映射", "update_cycle": "更新周期"}


# ---------------------------------------------------------------- helpers


def cycle_label(cycle: str | None) -> str:
    if not cycle:
        return "按目录资源的更新周期"
    try:
        return UpdateCycle(cycle).label
    except ValueError:
        return cycle


class Resources:
    """The catalog entries the pages mention, read once each through the catalog service."""

    def __init__(self, session: Session, actor: Actor) -> None:
        self.session, self.actor = session, actor
        self._seen: dict[int, ResourceOut | None] = {}

    def get(self, resource_id: int) -> ResourceOut | None:
        if not self.actor.scope_of(Permission.CATALOG_READ):
            return None
        if resource_id not in self._seen:
            try:
                self._seen[resource_id] = catalog.get_resource(self.session, self.actor, resource_id)
            except GovshareError:
                self._seen[resource_id] = None
        return self._seen[resource_id]

    def name(self, resource_id: int) -> str:
        found = self.get(resource_id)
        return found.name if found else f"资源 {resource_id}"

    def code(self, resource_id: int) -> str | None:
        found = self.get(resource_id)
        return found.code if found else None

    def definition_items(self, resource_id: int) -> list[dict[str, Any]]:
        """The items of the resource's published (else pending) version: field, name, key …"""
        found = self.get(resource_id)
        version = (found.current or found.pending) if found else None
        return list(version.definition["items"]) if version else []

    def items(self, resource_id: int) -> dict[str, str]:
        """Field name → the item's Chinese name."""
        return {i["field"]: i["name"] for i in self.definition_items(resource_id)}


def department_names(session: Session, actor: Actor) -> dict[int, str]:
    if actor.scope_of(Permission.DEPARTMENT_READ):
        return {d.id: d.name for d in identity.list_departments(session, actor)}
    return identity.department_codes(session)


def page_helpers() -> dict[str, Any]:
    return {
        "beijing": beijing,
        "states": STATUS,
        "phases": PHASES,
        "kinds": KINDS,
        "modes": MODES,
        "batch_kinds": BATCH_KINDS,
        "count_labels": COUNT_LABELS,
        "cycle_label": cycle_label,
    }


def explain(exc: Exception) -> str:
    """The Chinese sentence a collection form shows for invalid input or a refusal."""
    return forms.explain(exc, forms.labeller(FIELD_LABELS))


def collectable_resources(session: Session, actor: Actor) -> list[ResourceOut]:
    """Published resources the actor may collect into (its department's, or every one at node scope): what
    the registration forms offer. The service checks the scope again."""
    if not actor.scope_of(Permission.CATALOG_READ):
        return []
    code = None
    if actor.scope_of(RUN) != Scope.ALL:
        code = identity.department_codes(session).get(actor.department_id or 0)
        if code is None:
            return []
    found = catalog.list_resources(session, actor, department_code=code)
    return [r for r in found if r.current is not None and r.status == "active" and r.code]

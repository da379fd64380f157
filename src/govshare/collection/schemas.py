"""What the API and the CLI show of collection, and what they accept."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from govshare.collection.guided import Sample
from govshare.core.inputs import Input

COUNT_FIELDS = ("inserted", "updated", "unchanged", "superseded", "deleted", "empty", "rejected")


class BatchOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    resource_id: int
    resource_code: str | None = None
    resource_name: str | None = None
    department_id: int  # the resource's provider: who may run it (`policies.may_run`)
    source_id: int | None
    parent_id: int | None
    kind: str
    origin: str
    mode: str
    status: str
    phase: str
    error: str | None
    checksum: str | None
    encoding: str | None
    started_by: str
    started_at: datetime
    heartbeat_at: datetime
    finished_at: datetime | None
    bytes_done: int
    bytes_total: int | None
    read: int
    inserted: int
    updated: int
    unchanged: int
    superseded: int
    deleted: int
    empty: int
    rejected: int
    warnings: int
    removed: int
    cursor_to: str | None
    header_row: int | None = None  # the header's row in the source file (CSV line, Excel sheet row)
    recovered: int = 0  # CSV lines after a stray quote that it would have swallowed, read on their own
    kept: int = 0  # full mode: current records kept because their keys are on quarantined rows
    same_input_as: int | None = None  # an earlier batch whose input had the same SM3

    @property
    def accounted(self) -> int:
        """inserted + updated + unchanged + superseded + deleted + empty + rejected (= read)."""
        return sum(getattr(self, name) for name in COUNT_FIELDS)


class SourceCreate(Input):
    resource: str = Field(min_length=1, max_length=200, description="资源代码或名称")
    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_\-\u4e00-\u9fff]+$")
    mapping: str = Field(min_length=1, max_length=200_000, description="映射（YAML），见 docs/collection.md")
    update_cycle: str | None = None


class SourceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    resource_id: int
    department_id: int
    name: str
    kind: str
    mode: str
    update_cycle: str | None
    enabled: bool
    cursor_value: str | None
    last_success_at: datetime | None
    created_by: str
    created_at: datetime


class QuarantineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    severity: str
    row_no: int | None
    column: str | None
    rule: str
    message: str
    raw: str
    raw_is_line: bool
    resolved_by: int | None


class PushRequest(Input):
    """Records a department's system pushes; each an object of source column → value."""

    records: list[Any] = Field(min_length=1, max_length=50_000)
    mode: str | None = Field(None, pattern="^(full|incremental)$")


class GuidedSampleOut(BaseModel):
    """A sample file read for the guided registration: its columns and first rows, and the column
    pre-selected for each catalog item (item field → column) where a header names the item."""

    sample: Sample
    suggested: dict[str, str]


class DueSource(BaseModel):
    source: SourceOut
    cycle: str
    due_since: datetime | None

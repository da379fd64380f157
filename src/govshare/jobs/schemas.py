"""Response models of the job queue."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

STATE_LABELS = {
    "queued": "排队中",
    "running": "运行中",
    "succeeded": "已完成",
    "failed": "失败，等待重试",
    "dead": "已放弃",
    "cancelled": "已取消",
}


class JobOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    label: str = ""
    state: str
    state_label: str = ""
    attempts: int
    max_attempts: int
    run_after: datetime
    locked_by: str | None
    heartbeat_at: datetime | None
    error_code: str | None
    last_error: str | None
    result: dict[str, Any] | None
    target: str | None = None  # what the job works on, e.g. 批次 12
    dedupe_key: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None


class QueueFigures(BaseModel):
    """For /metrics: jobs per state and how long the oldest due job has waited."""

    by_state: dict[str, int]
    oldest_due_seconds: float

"""Jobs (后台任务): background work queued in the node's own database and run by `govshare worker`.

A job carries ids and small options only (`payload`, JSON); the records of a pushed batch are staged in a
private file under the node's work directory, never in this table. See docs/jobs.md."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from govshare.core.clock import utcnow
from govshare.models.base import Base


class Job(Base):
    __tablename__ = "job"
    __table_args__ = (Index("ix_job_state_run_after", "state", "run_after"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # queued / running / succeeded / failed (an attempt failed, waiting for its retry) / dead / cancelled
    state: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=5)
    run_after: Mapped[datetime] = mapped_column(default=utcnow)
    locked_by: Mapped[str | None] = mapped_column(String(200))  # host:pid of the worker running it
    locked_at: Mapped[datetime | None] = mapped_column()
    heartbeat_at: Mapped[datetime | None] = mapped_column()
    error_code: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)  # a Chinese message; never a secret or a traceback
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # one job per batch, one periodic job per period; NULL for jobs that may repeat
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()

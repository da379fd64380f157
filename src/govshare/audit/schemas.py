from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from govshare.models import AuditEntry


class AuditEntryOut(BaseModel):
    seq: int
    occurred_at: datetime
    actor_type: str
    actor_id: str | None
    actor_name: str
    department_code: str | None
    application_code: str | None
    action: str
    target_type: str | None
    target_id: str | None
    outcome: str
    request_id: str | None
    client_addr: str | None
    purpose: str | None
    detail: dict[str, Any]
    entry_hash: str

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditEntryOut:
        return cls(**{name: getattr(entry, name) for name in cls.model_fields})


class AuditPage(BaseModel):
    entries: list[AuditEntryOut]
    next_before: int | None


class ChainReportOut(BaseModel):
    ok: bool
    checked: int
    head_seq: int
    first_bad_seq: int | None
    problem: str | None
    message: str
    checkpoints: int
    checkpoint_seq: int | None


class CheckpointOut(BaseModel):
    written: bool
    number: int
    seq: int
    hash: str
    written_at: str
    alg: str

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from govshare.audit import vocabulary
from govshare.models import AuditEntry


@dataclass(frozen=True)
class AuditFilter:
    """What to search the log for; built by the API, the portal and the CLI, applied by the repository."""

    action: str | None = None
    actor_name: str | None = None
    target_id: str | None = None
    outcome: str | None = None
    department_code: str | None = None
    action_prefix: str | None = None  # an action family such as "sharing." (a literal prefix, no wildcards)
    since: datetime | None = None
    until: datetime | None = None


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
    action_label: str = Field("", description="操作的中文名称（尚无名称的操作为空，显示 action）")
    target_type_label: str = Field("", description="对象类型的中文名称")

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditEntryOut:
        stored = {name: getattr(entry, name) for name in cls.model_fields if not name.endswith("_label")}
        return cls(
            **stored,
            action_label=vocabulary.action_label(entry.action),
            target_type_label=vocabulary.target_type_label(entry.target_type),
        )


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

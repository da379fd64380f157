"""The backup manifest (inside the encrypted archive) and what the backup actions report."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(max_length=1000)
    size: int = Field(ge=0)
    sm3: str = Field(pattern=r"^[0-9a-f]{64}$")


class TableEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rows: int = Field(ge=0)
    sm3: str = Field(pattern=r"^[0-9a-f]{64}$")


class DigestEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    value: str = Field(pattern=r"^[0-9a-f]{64}$")
    tables: dict[str, TableEntry]


class AuditHeadEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    seq: int = Field(ge=0)
    entry_hash: str | None = None
    key_check: str | None = None


DATABASE_PARTS = {"sqlite": "database/sqlite.db", "postgresql": "database/postgresql.dump"}


class DatabaseEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["sqlite", "postgresql"]
    part: str
    server_version: str
    tool: str
    revision: str | None

    @model_validator(mode="after")
    def _part_is_the_kinds_own(self) -> DatabaseEntry:
        if self.part != DATABASE_PARTS[self.kind]:
            raise ValueError(f"database.part must be {DATABASE_PARTS[self.kind]}")
        return self


class Manifest(BaseModel):
    """What a backup holds and how to check it: signed by being inside the authenticated encryption."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal[1] = 1
    node_name: str
    division_code: str
    created_at: str
    govshare_version: str
    database: DatabaseEntry
    content_digest: DigestEntry
    audit_head: AuditHeadEntry
    checkpoint_dir: bool = False  # whether audit checkpoints are included
    parts: list[Part]


@dataclass(frozen=True)
class CreateReport:
    path: str
    size: int
    sm3: str
    content_digest: str
    database: str
    parts: int
    audit_seq: int
    offsite: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    path: str
    message: str
    content_digest: str | None = None
    database: str | None = None
    created_at: str | None = None
    parts: int = 0
    chain: dict[str, Any] = field(default_factory=dict)
    code: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RestoreReport:
    path: str
    target: str
    database: str
    content_digest: str
    files: int
    checkpoints: int
    chain: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PruneReport:
    kept: list[str]
    removed: list[str]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

"""The append-only, hash-chained audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from govshare.models.base import Base


class AuditEntry(Base):
    __tablename__ = "audit_entry"

    # `seq` is the chain position, unique, so two writers can never fork the chain.
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    actor_type: Mapped[str] = mapped_column(String(16))  # user / application / system / anonymous
    actor_id: Mapped[str | None] = mapped_column(String(64))
    actor_name: Mapped[str] = mapped_column(String(100))
    department_code: Mapped[str | None] = mapped_column(String(32))
    application_code: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(128), index=True)
    outcome: Mapped[str] = mapped_column(String(16))  # success / denied / failure
    request_id: Mapped[str | None] = mapped_column(String(64))
    client_addr: Mapped[str | None] = mapped_column(String(64))
    purpose: Mapped[str | None] = mapped_column(String(255))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The chain's newest position, one row. Appends lock it, so entries are written one at a time,
    and verification compares it with the last entry to notice a truncated tail. Its MAC keeps someone
    without the audit key from rewinding it; checkpoints outside the database catch a replayed old head."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    entry_hash: Mapped[str] = mapped_column(String(64))
    # HMAC-SM3 of a fixed text under the audit key, set by the first append: a node started with another
    # key refuses to write instead of appending entries that would break the chain.
    key_check: Mapped[str | None] = mapped_column(String(64))
    # HMAC-SM3 over (seq, entry_hash, key_check) under a key derived from the audit key (audit/chain.py
    # `head_mac`): someone who rewinds the head without the key cannot make it match. NULL only on a node
    # that has never appended since migration 0009; the next append keys it (unless checkpoints exist).
    mac: Mapped[str | None] = mapped_column(String(64))

"""数据标准: code sets (代码集) with their versions and codes, and data elements (数据元)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govshare.core.clock import utcnow
from govshare.models.base import Base


class CodeSet(Base):
    """A code set, e.g. GB/T 2261.1 人的性别代码, or one a department defines. Its codes live in versions."""

    __tablename__ = "std_code_set"

    id: Mapped[int] = mapped_column(primary_key=True)
    # URL-safe key: "GB-T-2261.1" for GB/T 2261.1, or the user's own code
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    standard: Mapped[str] = mapped_column(String(100), default="")  # "GB/T 2261.1-2003", "" for user sets
    source: Mapped[str] = mapped_column(Text, default="")  # where the codes come from
    description: Mapped[str] = mapped_column(Text, default="")
    is_builtin: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    versions: Mapped[list[CodeSetVersion]] = relationship(
        lazy="raise", order_by="CodeSetVersion.id", back_populates="code_set"
    )


class CodeSetVersion(Base):
    """One version of a code set: a complete row set of codes. The current version is the newest one in
    effect (valid_from not after today, valid_to not reached)."""

    __tablename__ = "std_code_set_version"
    __table_args__ = (UniqueConstraint("code_set_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code_set_id: Mapped[int] = mapped_column(ForeignKey("std_code_set.id", ondelete="CASCADE"), index=True)
    version: Mapped[str] = mapped_column(String(32))
    valid_from: Mapped[date | None]
    valid_to: Mapped[date | None]
    note: Mapped[str] = mapped_column(Text, default="")
    code_count: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    code_set: Mapped[CodeSet] = relationship(lazy="raise", back_populates="versions")


class Code(Base):
    """A code of one version. `position` keeps the standard's order (GB 3304 is not alphabetical);
    `valid_from`/`valid_to` bound codes that were created or abolished (GB/T 2260), `valid_to` exclusive;
    `parent_code` links a division to its prefecture or province, a sub-code to its group."""

    __tablename__ = "std_code"
    __table_args__ = (Index("ix_std_code_version_code", "version_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("std_code_set_version.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200))
    position: Mapped[int]
    parent_code: Mapped[str | None] = mapped_column(String(64))
    valid_from: Mapped[date | None]
    valid_to: Mapped[date | None]
    # Anything else the standard gives: GB 3304's letter code and romanization, a note.
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class DataElement(Base):
    """A data element (数据元): identifier, name, definition, representation (data type, length, code set),
    where it is standardized, and the validator that checks its values."""

    __tablename__ = "std_data_element"

    id: Mapped[int] = mapped_column(primary_key=True)
    identifier: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    definition: Mapped[str] = mapped_column(Text, default="")
    data_type: Mapped[str] = mapped_column(String(1))  # C N Y D T L M G B I F, as 信息项
    length: Mapped[int | None]
    code_set_id: Mapped[int | None] = mapped_column(
        ForeignKey("std_code_set.id", ondelete="RESTRICT"), index=True
    )
    code_set_version: Mapped[str | None] = mapped_column(String(32))  # pinned; None = the current one
    validator: Mapped[str | None] = mapped_column(String(32))  # a name from govshare.standards.registry
    standard_source: Mapped[str] = mapped_column(String(200), default="")
    version: Mapped[str] = mapped_column(String(32), default="1.0")
    status: Mapped[str] = mapped_column(String(16), default="active")  # draft / active / retired
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    code_set: Mapped[CodeSet | None] = relationship(lazy="raise")

"""The catalog: resources, their versions and data items, code sequences and the search index."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govshare.core.clock import utcnow
from govshare.models.base import Base
from govshare.models.identity import Department


class Resource(Base):
    """An information resource (信息资源). Its content lives in versions; the published one is in force."""

    __tablename__ = "catalog_resource"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str | None] = mapped_column(String(64), unique=True)  # assigned at first publication
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="new")  # new / active / withdrawn
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    first_published_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]
    withdrawn_reason: Mapped[str | None] = mapped_column(String(500))

    department: Mapped[Department] = relationship(lazy="raise")
    versions: Mapped[list[ResourceVersion]] = relationship(
        lazy="raise", order_by="ResourceVersion.number", back_populates="resource"
    )


class ResourceVersion(Base):
    __tablename__ = "catalog_version"
    __table_args__ = (
        UniqueConstraint("resource_id", "number"),
        Index("ix_catalog_version_state", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_resource.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int]
    state: Mapped[str] = mapped_column(String(16))  # draft / submitted / returned / published / superseded

    name: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(16))
    base_kind: Mapped[str | None] = mapped_column(String(16))
    theme: Mapped[str | None] = mapped_column(String(16))
    class_code: Mapped[str] = mapped_column(String(1))
    item_code: Mapped[str] = mapped_column(String(2))
    catalog_code: Mapped[str] = mapped_column(String(3))
    detail_code: Mapped[str | None] = mapped_column(String(8))
    format_category: Mapped[str] = mapped_column(String(24))
    format_type: Mapped[str] = mapped_column(String(50), default="")
    share_type: Mapped[str] = mapped_column(String(16))
    share_condition: Mapped[str] = mapped_column(Text, default="")
    share_methods: Mapped[list[str]] = mapped_column(JSON, default=list)
    open_to_public: Mapped[bool] = mapped_column(default=False)
    open_condition: Mapped[str] = mapped_column(Text, default="")
    update_cycle: Mapped[str] = mapped_column(String(16))
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    security_grade: Mapped[str] = mapped_column(String(16))
    related_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    system_code: Mapped[str | None] = mapped_column(String(64))
    # Rule overrides granted by a platform admin: [{"rule", "reason", "by", "at"}]
    overrides: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_by: Mapped[str | None] = mapped_column(String(100))
    submitted_at: Mapped[datetime | None]
    reviewed_by: Mapped[str | None] = mapped_column(String(100))
    reviewed_at: Mapped[datetime | None]
    review_comment: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None]

    resource: Mapped[Resource] = relationship(lazy="raise", back_populates="versions")
    items: Mapped[list[ResourceItem]] = relationship(
        lazy="raise", order_by="ResourceItem.position", cascade="all, delete-orphan"
    )


class ResourceItem(Base):
    """A data item (信息项) of one version."""

    __tablename__ = "catalog_item"
    __table_args__ = (UniqueConstraint("version_id", "field_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("catalog_version.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(100))
    field_name: Mapped[str] = mapped_column(String(64))
    data_type: Mapped[str] = mapped_column(String(1))
    length: Mapped[int | None]
    nullable: Mapped[bool] = mapped_column(default=True)
    is_key: Mapped[bool] = mapped_column(default=False)
    is_base: Mapped[bool] = mapped_column(default=False)
    share_type: Mapped[str | None] = mapped_column(String(16))
    standard_ref: Mapped[str | None] = mapped_column(String(100))
    security_grade: Mapped[str] = mapped_column(String(16))
    mask_rule: Mapped[str] = mapped_column(String(16), default="none")


class CodeSequence(Base):
    """The last sequence number used for a code prefix (类项目细目, or a department)."""

    __tablename__ = "catalog_code_sequence"

    prefix: Mapped[str] = mapped_column(String(32), primary_key=True)
    last: Mapped[int] = mapped_column(default=0)


class SearchDocument(Base):
    """One row per published resource: what search filters, facets and ranks on."""

    __tablename__ = "catalog_search_doc"

    resource_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_resource.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    department_id: Mapped[int] = mapped_column(index=True)
    category: Mapped[str] = mapped_column(String(16))
    classification: Mapped[str] = mapped_column(String(40))  # e.g. base:population, theme:社会保障
    share_type: Mapped[str] = mapped_column(String(16))
    open_to_public: Mapped[bool]
    update_cycle: Mapped[str] = mapped_column(String(16))
    security_grade: Mapped[str] = mapped_column(String(16))
    published_at: Mapped[datetime]
    text: Mapped[str] = mapped_column(Text)  # normalised name, summary and item names, for short queries


class SearchToken(Base):
    """Inverted index: character bigrams of Chinese text and lowercased words, per resource."""

    __tablename__ = "catalog_search_token"
    __table_args__ = (Index("ix_catalog_search_token_token", "token", "resource_id", "weight"),)

    resource_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_resource.id", ondelete="CASCADE"), primary_key=True
    )
    token: Mapped[str] = mapped_column(String(32), primary_key=True)
    weight: Mapped[float] = mapped_column(Float)

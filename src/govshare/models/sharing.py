"""Sharing (共享服务): applications for data (共享申请), the grants they compile into, usage per day and the
index of whom each data access touched (for "who looked at me")."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govshare.core.clock import utcnow
from govshare.models.base import Base
from govshare.models.catalog import Resource
from govshare.models.identity import Application


class ShareRequest(Base):
    """One application (共享申请) by a consuming application for a resource of another department, or a
    协商 request about a resource that is not shared. Its state machine is in `sharing/workflow.py`."""

    __tablename__ = "share_request"
    __table_args__ = (Index("ix_share_request_state_due", "state", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)  # SQ-2026-000001, shown to people
    kind: Mapped[str] = mapped_column(String(16), default="apply")  # apply / negotiate
    state: Mapped[str] = mapped_column(String(24), index=True)
    resource_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_resource.id", ondelete="RESTRICT"), index=True
    )
    version_id: Mapped[int] = mapped_column(ForeignKey("catalog_version.id", ondelete="RESTRICT"))
    provider_department_id: Mapped[int] = mapped_column(
        ForeignKey("department.id", ondelete="RESTRICT"), index=True
    )
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="RESTRICT"), index=True)
    consumer_department_id: Mapped[int] = mapped_column(
        ForeignKey("department.id", ondelete="RESTRICT"), index=True
    )
    purpose_kind: Mapped[str] = mapped_column(String(32))  # 使用用途
    purpose: Mapped[str] = mapped_column(Text)  # what for, in the applicant's words
    basis: Mapped[str] = mapped_column(Text)  # the business or legal basis (依据)
    items: Mapped[list[str]] = mapped_column(JSON)  # field names asked for
    clear_items: Mapped[list[str]] = mapped_column(JSON, default=list)  # asked for in clear text
    row_scope: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)  # {field: [allowed values]}
    period_start: Mapped[date]
    period_end: Mapped[date]
    requests_per_day: Mapped[int] = mapped_column(default=1000)  # expected volume
    rows_per_day: Mapped[int] = mapped_column(default=10000)

    requested_by: Mapped[str] = mapped_column(String(100))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    stage_started_at: Mapped[datetime] = mapped_column(default=utcnow)  # the current stage's clock
    due_at: Mapped[datetime | None]  # end of the current stage's deadline (working days)
    reminded_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]  # overdue and reported to the 主管部门
    provisional_calendar: Mapped[bool] = mapped_column(default=False)  # a deadline year without holidays

    prereview_by: Mapped[str | None] = mapped_column(String(100))
    prereview_at: Mapped[datetime | None]
    prereview_comment: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)
    approved_items: Mapped[list[str] | None] = mapped_column(JSON)
    approved_clear_items: Mapped[list[str] | None] = mapped_column(JSON)
    approved_row_scope: Mapped[dict[str, list[str]] | None] = mapped_column(JSON)
    provider_working_days: Mapped[int | None]  # how long the provider took, for evaluation
    negotiation_reason: Mapped[str | None] = mapped_column(Text)
    negotiation_outcome: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None]

    resource: Mapped[Resource] = relationship(lazy="raise")
    application: Mapped[Application] = relationship(lazy="raise")


class ShareGrant(Base):
    """What an approval (or a subscription to 无条件 items) compiles into, and what every data call checks:
    application × resource × items × rows × purpose × validity × quota."""

    __tablename__ = "share_grant"
    __table_args__ = (Index("ix_share_grant_lookup", "application_id", "resource_id", "revoked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # subscription / approval
    request_id: Mapped[int | None] = mapped_column(ForeignKey("share_request.id", ondelete="RESTRICT"))
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="RESTRICT"), index=True)
    consumer_department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"))
    resource_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_resource.id", ondelete="RESTRICT"), index=True
    )
    provider_department_id: Mapped[int] = mapped_column(
        ForeignKey("department.id", ondelete="RESTRICT"), index=True
    )
    items: Mapped[list[str]] = mapped_column(JSON)
    clear_items: Mapped[list[str]] = mapped_column(JSON, default=list)  # returned without masking
    row_scope: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    purpose_kind: Mapped[str] = mapped_column(String(32))
    purpose: Mapped[str] = mapped_column(Text, default="")
    valid_from: Mapped[datetime]
    valid_to: Mapped[datetime]
    requests_per_day: Mapped[int]
    rows_per_day: Mapped[int]
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(100))
    revoked_reason: Mapped[str | None] = mapped_column(Text)
    # The grant that took this one's place when an approval superseded it (merged into or replaced by).
    superseded_by: Mapped[int | None] = mapped_column(ForeignKey("share_grant.id", ondelete="RESTRICT"))

    resource: Mapped[Resource] = relationship(lazy="raise")
    application: Mapped[Application] = relationship(lazy="raise")


class UsageDaily(Base):
    """Calls, rows and refusals per day, resource and consuming application: the quota counter and the
    evaluation's source. Provider and consumer departments are copied in for grouping."""

    __tablename__ = "share_usage_daily"
    __table_args__ = (UniqueConstraint("day", "resource_id", "application_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(index=True)
    resource_id: Mapped[int] = mapped_column(index=True)
    application_id: Mapped[int] = mapped_column(index=True)
    provider_department_id: Mapped[int] = mapped_column(index=True)
    consumer_department_id: Mapped[int] = mapped_column(index=True)
    calls: Mapped[int] = mapped_column(BigInteger, default=0)
    rows: Mapped[int] = mapped_column(BigInteger, default=0)
    refusals: Mapped[int] = mapped_column(BigInteger, default=0)


class AccessSubject(Base):
    """Whom one audited data access touched: a keyed SM3 digest of the 公民身份号码 or 统一社会信用代码
    (never the number itself), so "who looked at me" is an index look-up and the index reveals nobody."""

    __tablename__ = "audit_access_subject"
    __table_args__ = (Index("ix_audit_access_subject_digest", "subject_digest", "audit_seq"),)

    # BIGINT on PostgreSQL; INTEGER on SQLite, where only INTEGER PRIMARY KEY is the autoincrementing rowid
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    audit_seq: Mapped[int] = mapped_column(BigInteger)
    subject_digest: Mapped[str] = mapped_column(String(64))
    resource_id: Mapped[int]

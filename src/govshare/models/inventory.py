"""政务信息系统清单: the information systems departments run."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govshare.core.clock import utcnow
from govshare.models.base import Base
from govshare.models.identity import Department


class InfoSystem(Base):
    __tablename__ = "info_system"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"), index=True)
    function: Mapped[str] = mapped_column(Text, default="")
    usage_range: Mapped[str] = mapped_column(String(24))
    usage_frequency: Mapped[str] = mapped_column(String(16))
    build_year: Mapped[int | None]
    approved_by: Mapped[str] = mapped_column(String(100), default="")
    funding: Mapped[str] = mapped_column(String(16))
    connected: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    department: Mapped[Department] = relationship(lazy="raise")

"""公共数据开放 (open data): usage of the public portal and API, counted per day and resource."""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from govshare.models.base import Base


class OpenUsageDaily(Base):
    """Page views, downloads per format and API calls per day (Beijing) and resource, each request adding
    to its row in one upsert. `resource_id` 0 counts calls that concern no single dataset (the list, the
    DCAT export, the statistics)."""

    __tablename__ = "open_usage_daily"
    __table_args__ = (UniqueConstraint("day", "resource_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(index=True)
    resource_id: Mapped[int] = mapped_column(index=True)
    page_views: Mapped[int] = mapped_column(BigInteger, default=0)
    downloads_csv: Mapped[int] = mapped_column(BigInteger, default=0)
    downloads_xlsx: Mapped[int] = mapped_column(BigInteger, default=0)
    downloads_json: Mapped[int] = mapped_column(BigInteger, default=0)
    api_calls: Mapped[int] = mapped_column(BigInteger, default=0)

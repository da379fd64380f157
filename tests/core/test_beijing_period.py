"""Charts group by the Beijing day and month, in SQL, on SQLite and PostgreSQL alike: an instant before 08:00
Beijing time is still the previous day in UTC."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import literal, select, update

from govshare.catalog import stats_service as catalog_stats
from govshare.core.db import Database, beijing_period
from govshare.models import Resource
from govshare.models.base import UTCDateTime
from tests import factories
from tests.catalog.helpers import POPULATION, apply


@pytest.mark.parametrize(
    ("instant", "day", "month"),
    [
        (datetime(2026, 1, 31, 15, 59, 59, tzinfo=UTC), "2026-01-31", "2026-01"),
        (datetime(2026, 1, 31, 16, 0, 0, tzinfo=UTC), "2026-02-01", "2026-02"),
        (datetime(2026, 12, 31, 23, 30, 0, 123456, tzinfo=UTC), "2027-01-01", "2027-01"),
    ],
)
def test_the_beijing_day_and_month_of_a_utc_instant(
    db: Database, instant: datetime, day: str, month: str
) -> None:
    with db.transaction(readonly=True) as session:
        value = literal(instant, UTCDateTime())
        assert session.scalar(select(beijing_period(session, value))) == day
        assert session.scalar(select(beijing_period(session, value, month=True))) == month


def test_catalog_growth_counts_a_publication_in_its_beijing_month(db: Database) -> None:
    factories.city(db)
    apply(db, POPULATION)  # publishes one resource
    with db.transaction() as session:
        # 2026-02-01 01:00 in Beijing, still January in UTC
        session.execute(update(Resource).values(first_published_at=datetime(2026, 1, 31, 17, 0, tzinfo=UTC)))
    with db.transaction(readonly=True) as session:
        growth = catalog_stats.growth_by_month(session)
    assert [(m.month, m.published) for m in growth] == [("2026-02", 1)]

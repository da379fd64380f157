from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone


def utcnow() -> datetime:
    """Aware UTC now. Everything the node stores is UTC; the portal shows Beijing time."""
    return datetime.now(UTC)


BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")


EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def assume_beijing(value: datetime | None, field: str = "time") -> datetime | None:
    """A timestamp from a person (query string, form): without a zone it is Beijing time. Years outside
    1900–8999 are refused (they overflow on conversion to UTC and mean nothing here)."""
    if value is None:
        return None
    aware = value if value.tzinfo is not None else value.replace(tzinfo=BEIJING)
    if not (EARLIEST.year <= aware.year < LATEST.year):
        from govshare.errors import InvalidInput  # errors imports nothing of ours; kept local for clarity

        raise InvalidInput.on(field, "时间须在 1900 年至 8999 年之间")
    return aware

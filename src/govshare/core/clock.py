from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone


def utcnow() -> datetime:
    """Aware UTC now. Everything the node stores is UTC; the portal shows Beijing time."""
    return datetime.now(UTC)


BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")


def assume_beijing(value: datetime | None) -> datetime | None:
    """A timestamp from a person (query string, form) without a zone is Beijing time."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=BEIJING)

"""Calendar months in a partnership's own time zone: what summaries and statistics count by."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


def shift_month(month: date, months: int) -> date:
    """The first day of the month `months` after (or before) the month of `month`."""
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_bounds(month: date, timezone: str) -> tuple[datetime, datetime]:
    """The first and the first-after instants of a local calendar month, in UTC."""
    zone = ZoneInfo(timezone)
    after = shift_month(month, 1)
    return (datetime(month.year, month.month, 1, tzinfo=zone).astimezone(UTC),
            datetime(after.year, after.month, 1, tzinfo=zone).astimezone(UTC))

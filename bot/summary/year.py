"""A school year of frozen months, for the dashboard and the CSV export.

A Dutch school year runs from August to July; it is named by the year it starts in
(2026 is 2026-2027). Only months that are over and have figures are read, each as it was
frozen (bot/summary/frozen.py), so every suppression the chat applies holds here too.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.content import Content
from bot.months import shift_month
from bot.store.models import Partnership
from bot.summary.frozen import first_month, last_closed_month, published_summary
from bot.summary.model import Summary

FIRST_MONTH = 8  # August: the school year's first month


def school_year(month: date) -> int:
    """The school year a month belongs to, by the year it starts in."""
    return month.year if month.month >= FIRST_MONTH else month.year - 1


def year_months(year: int) -> list[date]:
    """The twelve months of a school year, August to July."""
    return [shift_month(date(year, FIRST_MONTH, 1), n) for n in range(12)]


async def school_years(session: AsyncSession, partnership: Partnership,
                       now: datetime) -> list[int]:
    """The school years with at least one closed month that has figures, newest first."""
    first = await first_month(session, partnership)
    last = last_closed_month(partnership, now)
    if first is None or last < first:
        return []
    return list(range(school_year(last), school_year(first) - 1, -1))


async def year_summaries(session: AsyncSession, content: Content, partnership: Partnership,
                         year: int, now: datetime) -> list[Summary]:
    """The frozen summaries of the school year's closed months, oldest first."""
    first = await first_month(session, partnership)
    last = last_closed_month(partnership, now)
    if first is None:
        return []
    found = []
    # Newest first: reading it freezes every month before it at once, and the older ones
    # are then read from what this transaction froze.
    for month in reversed([m for m in year_months(year) if first <= m <= last]):
        summary = await published_summary(session, content, partnership, month, now=now)
        if summary is not None:
            found.append(summary)
    return found[::-1]

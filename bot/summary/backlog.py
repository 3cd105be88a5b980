"""Which closed months are not frozen yet, and cutting a backlog of them into small
transactions.

Normally one month per partnership closes at a time. A backlog (after downtime, a restore,
or the first start of a version that freezes months) can be two years of months for every
partnership; frozen in one transaction, that transaction holds SQLite's only write lock
(on PostgreSQL: its new rows' locks) for minutes, and a member's check-in press in the
meantime waits and fails. So the scheduler freezes a backlog in transactions of their own
of at most `MONTHS_PER_TRANSACTION` partnership-months each, oldest first per partnership
(`bot.summary.batch.freeze_backlog`); each month is made exactly as before, with the two
months before it read back from what earlier transactions stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.months import shift_month
from bot.store.models import CheckInRound, Partnership
from bot.store.summary import SummaryMonth
from bot.summary.frozen import last_closed_month

# The most partnership-months one transaction of the scheduler freezes (as many as one
# planning batch has partnerships: a batch freezes at most its month that just closed).
MONTHS_PER_TRANSACTION = 32
CHUNK = 200  # partnerships per query, well inside every driver's limit on parameters


async def first_months(session: AsyncSession, partnerships: Iterable[Partnership]
                       ) -> dict[int, date | None]:
    """Per partnership, the month (local) its first check-in round closes in: one query."""
    found: dict[int, date | None] = {}
    by_id = {p.id: p for p in partnerships}
    ids = list(by_id)
    for at in range(0, len(ids), CHUNK):
        for pid, closes in await session.execute(
                select(CheckInRound.partnership_id, func.min(CheckInRound.closes_at))
                .where(CheckInRound.partnership_id.in_(ids[at:at + CHUNK]))
                .group_by(CheckInRound.partnership_id)):
            zone = ZoneInfo(by_id[pid].timezone)
            found[pid] = closes.astimezone(zone).date().replace(day=1)
    return {pid: found.get(pid) for pid in by_id}


async def missing_months(session: AsyncSession, partnerships: Iterable[Partnership],
                         last: Mapping[int, date]) -> tuple[dict[int, date], dict[int, list[date]]]:
    """Per partnership with figures by `last[id]`: its first month, and its months from
    then through `last[id]` that are not stored, oldest first (partnerships with none left
    out)."""
    first = {pid: month for pid, month in (await first_months(session, partnerships)).items()
             if month is not None and month <= last[pid]}
    ids = sorted(first)
    stored: dict[int, set[date]] = {pid: set() for pid in ids}
    for at in range(0, len(ids), CHUNK):
        for pid, month in await session.execute(
                select(SummaryMonth.partnership_id, SummaryMonth.month)
                .where(SummaryMonth.partnership_id.in_(ids[at:at + CHUNK]))):
            stored[pid].add(month)
    missing: dict[int, list[date]] = {}
    for pid in ids:
        month, months = first[pid], []
        while month <= last[pid]:
            if month not in stored[pid]:
                months.append(month)
            month = shift_month(month, 1)
        if months:
            missing[pid] = months
    return first, missing


async def backlog(session: AsyncSession, partnerships: Sequence[Partnership], now: datetime,
                  *, older_only: bool = False) -> dict[int, list[date]]:
    """The closed months not frozen yet per partnership; with `older_only`, only those
    before the month that closed last (what a planning batch freezes itself)."""
    last = {p.id: last_closed_month(p, now) for p in partnerships}
    if older_only:
        last = {pid: shift_month(month, -1) for pid, month in last.items()}
    return (await missing_months(session, partnerships, last))[1]


def transactions(missing: Mapping[int, Sequence[date]]) -> list[dict[int, date]]:
    """The backlog cut into transactions of at most `MONTHS_PER_TRANSACTION`
    partnership-months, in partnership order, each partnership's oldest months first: per
    transaction, the month each of its partnerships is frozen through."""
    size = MONTHS_PER_TRANSACTION
    cut: list[dict[int, date]] = []
    current: dict[int, date] = {}
    count = 0
    for pid in sorted(missing):
        for month in missing[pid]:
            if count == size:
                cut.append(current)
                current, count = {}, 0
            current[pid] = month
            count += 1
    if current:
        cut.append(current)
    return cut

"""Closed months are frozen: each month's summary is computed once, stored, and read back.

Why: a summary recomputed from live rows changes when a member is removed, erases
themselves, moves to another school or level, or when retention deletes old answers; two
versions of one month then tell, by subtraction, what that one person answered. So once a
month is over in the partnership's time zone, its whole `Summary` (every figure any
output shows, the informal-contact numbers, the open texts it may show) is stored in
`summary_month` with the partnership's threshold and the content version it used, and
every reader (`samenvatting`, `achtje summary` in every format, the scheduled summaries)
shows that stored result.

When: the scheduler freezes the months that closed at every planned schedule; erasure,
member removal, member import and retention freeze first, before they change anything;
and a reader freezes on first use. Months are frozen oldest first, each with the frozen
results of the two months before it for its trend. Months that closed before frozen months
existed are frozen on their first use afterwards, from the rows left then.

A month has no figures ("nog geen cijfers") before the month the partnership's first
check-in round closed in; nothing is stored for it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content import Content
from bot.months import shift_month
from bot.store.models import CheckInRound, Member, Partnership
from bot.store.repo import insert_for
from bot.store.summary import SummaryMonth
from bot.summary.codec import decode, encode
from bot.summary.compute import leader_summary
from bot.summary.model import Summary, TopicSummary

logger = logging.getLogger(__name__)


def last_closed_month(partnership: Partnership, now: datetime) -> date:
    """The latest month that is over in the partnership's time zone."""
    return shift_month(now.astimezone(ZoneInfo(partnership.timezone)).date(), -1)


async def first_month(session: AsyncSession, partnership: Partnership) -> date | None:
    """The month (local) the partnership's first check-in round closes in; None without
    rounds. Earlier months have no figures."""
    closes = await session.scalar(select(func.min(CheckInRound.closes_at)).where(
        CheckInRound.partnership_id == partnership.id))
    if closes is None:
        return None
    return closes.astimezone(ZoneInfo(partnership.timezone)).date().replace(day=1)


async def published_summary(
    session: AsyncSession,
    content: Content,
    partnership: Partnership,
    month: date,
    *,
    now: datetime | None = None,
) -> Summary | None:
    """The stored summary of `month` (any day in it), which must be over; frozen first,
    with every closed month before it, when it is not stored yet. None when the month has
    no figures (before the first round closed): then nothing is stored."""
    now = now or datetime.now(UTC)
    month = month.replace(day=1)
    if month > last_closed_month(partnership, now):
        raise ValueError(f"{month:%Y-%m} is not over yet")
    first, _ = await _freeze_through(session, content, partnership, month, now)
    if first is None or month < first:
        return None
    return await _load(session, partnership.id, month)


async def freeze_closed_months(
    session: AsyncSession, content: Content, partnership: Partnership, now: datetime
) -> int:
    """Freeze every closed month not stored yet, oldest first; how many were frozen.

    Call it before anything that deletes or changes answers or members, in the same
    transaction, so the months that are over keep what they showed."""
    _, frozen = await _freeze_through(session, content, partnership,
                                      last_closed_month(partnership, now), now)
    return frozen


async def freeze_before_change(session: AsyncSession, content: Content, member_id: int,
                               now: datetime) -> None:
    """Freeze the closed months of the member's partnership, before the member or their
    answers change or go (erasure, removal); nothing when there is no such member."""
    member = await session.get(Member, member_id)
    partnership = await session.get(Partnership, member.partnership_id) if member else None
    if partnership is not None:
        await freeze_closed_months(session, content, partnership, now)


async def forget_open_texts(session: AsyncSession, partnership_id: int, before: date) -> int:
    """Empty the open texts of the frozen months before `before`: their term is over.

    All texts of a month go at once, by date alone, so what disappears tells nothing about
    any one person; the numbers stay. Returns the months changed."""
    changed = 0
    for row in await session.scalars(select(SummaryMonth).where(
            SummaryMonth.partnership_id == partnership_id, SummaryMonth.month < before)):
        summary = decode(Summary, row.data)
        topics = (*summary.conditions, *summary.boards)
        if not any(topic.open_answers for topic in topics):
            continue
        row.data = _encoded(dataclasses.replace(
            summary,
            conditions=tuple(_without_texts(t) for t in summary.conditions),
            boards=tuple(_without_texts(t) for t in summary.boards)))
        changed += 1
    session.info.pop(_KNOWN, None)  # what this transaction froze has changed
    return changed


def _without_texts(topic: TopicSummary) -> TopicSummary:
    return dataclasses.replace(topic, results=tuple(
        dataclasses.replace(result, open_answers=()) for result in topic.results))


async def _freeze_through(
    session: AsyncSession, content: Content, partnership: Partnership, last: date,
    now: datetime,
) -> tuple[date | None, int]:
    """Freeze the months from the first one with figures up to `last`: the first month,
    and how many months were frozen now."""
    known = _known(session)
    if partnership.id in known.through and last <= known.through[partnership.id][1]:
        return known.through[partnership.id][0], 0  # this transaction froze them already
    first = await first_month(session, partnership)
    if first is None or last < first:
        return first, 0
    stored = set(await session.scalars(select(SummaryMonth.month).where(
        SummaryMonth.partnership_id == partnership.id)))
    frozen: dict[date, Summary] = {}  # this call's, so the next month needs no reload
    month = first
    while month <= last:
        if month not in stored:
            earlier = [found for n in (2, 1) if (before := shift_month(month, -n)) >= first
                       and (found := frozen.get(before)
                            or await _load(session, partnership.id, before)) is not None]
            frozen[month] = await leader_summary(session, content, partnership, month,
                                                 earlier=earlier)
            await _store(session, content, frozen[month], now)
        month = shift_month(month, 1)
    _known(session).through[partnership.id] = (first, last)
    return first, len(frozen)


async def _store(session: AsyncSession, content: Content, summary: Summary,
                 now: datetime) -> None:
    """Insert the month; when another process froze it a moment earlier, theirs stays."""
    statement = (
        insert_for(session, SummaryMonth)
        .values(partnership_id=summary.partnership_id, month=summary.month, frozen_at=now,
                min_group_size=summary.min_group_size,
                content_version=content_version(content.folder), data=_encoded(summary))
        .on_conflict_do_nothing()
        .returning(SummaryMonth.id)
    )
    if (await session.execute(statement)).first() is not None:
        _known(session).summaries[(summary.partnership_id, summary.month)] = summary
        logger.info("froze %s of partnership %s", f"{summary.month:%Y-%m}",
                    summary.partnership_id)


async def store_many(session: AsyncSession, content: Content, summaries: Sequence[Summary],
                     now: datetime) -> None:
    """Insert many months at once (`bot.summary.batch`), as `_store` does one: where another
    process froze a month a moment earlier, theirs stays."""
    version = content_version(content.folder)
    for at in range(0, len(summaries), STORE_CHUNK):
        part = summaries[at:at + STORE_CHUNK]
        statement = (
            insert_for(session, SummaryMonth)
            .values([{"partnership_id": s.partnership_id, "month": s.month, "frozen_at": now,
                      "min_group_size": s.min_group_size, "content_version": version,
                      "data": _encoded(s)} for s in part])
            .on_conflict_do_nothing()
            .returning(SummaryMonth.partnership_id, SummaryMonth.month)
        )
        stored = {(pid, month) for pid, month in await session.execute(statement)}
        known = _known(session).summaries
        for summary in part:
            if (summary.partnership_id, summary.month) in stored:
                known[(summary.partnership_id, summary.month)] = summary
                logger.info("froze %s of partnership %s", f"{summary.month:%Y-%m}",
                            summary.partnership_id)


STORE_CHUNK = 200  # months per INSERT: six values each, well inside parameter limits


async def _load(session: AsyncSession, partnership_id: int, month: date) -> Summary | None:
    known = _known(session).summaries.get((partnership_id, month))
    if known is not None:
        return known
    data = await session.scalar(select(SummaryMonth.data).where(
        SummaryMonth.partnership_id == partnership_id, SummaryMonth.month == month))
    return None if data is None else decode(Summary, data)


@dataclass
class _Known:
    """What this transaction froze: the summaries it stored (so reading one back needs no
    query or decoding) and, per partnership, the first month and the last month frozen
    through (so freezing again, as a reader does after the scheduler froze, needs no
    query). Kept in the session, for its current transaction only."""

    transaction: object
    summaries: dict[tuple[int, date], Summary] = field(default_factory=dict)
    through: dict[int, tuple[date, date]] = field(default_factory=dict)


def known_months(session: AsyncSession) -> _Known:
    """What this transaction froze (`bot.summary.batch` reads and adds to it)."""
    return _known(session)


def _known(session: AsyncSession) -> _Known:
    transaction = session.sync_session.get_transaction()
    if transaction is None:  # none begun yet: nothing known, and nothing to keep
        return _Known(None)
    known = session.info.get(_KNOWN)
    if not isinstance(known, _Known) or known.transaction is not transaction:
        known = session.info[_KNOWN] = _Known(transaction)
    return known


_KNOWN = "achtje.summary.frozen"


def _encoded(summary: Summary) -> dict[str, object]:
    data = encode(summary)
    assert isinstance(data, dict)
    return data


@cache
def content_version(folder: Path) -> str:
    """A hash of every file in the content folder: which words and rules a month used."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*")
                       if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()

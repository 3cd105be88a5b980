"""Delivering the outbox: claiming rows safely, and recording what became of them.

Claiming marks a row `sending` with a lease just before the platform is called; on
PostgreSQL `FOR UPDATE SKIP LOCKED` lets several processes claim side by side without
waiting for or doubling each other. On SQLite one process sends. Rows are written through
`bot/outbox.py`.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, and_, bindparam, func, not_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.store.schedule import OutboxMessage

logger = logging.getLogger(__name__)

# Kinds whose message is sent again when a process died while sending it: a second
# monthly summary is better than none. Everything else is marked uncertain (docs/delivery.md).
RESEND_WHEN_UNCERTAIN = frozenset({"summary"})
Executor = AsyncSession | AsyncConnection  # the sender claims and settles on a connection


# The sender runs these for every message, so they are built once, on the table itself
# (Core, not the ORM), and only filled in with parameters.
_OUTBOX: Table = OutboxMessage.__table__  # type: ignore[assignment]
_WHEN = _OUTBOX.c.due_at.type


@dataclass(frozen=True)
class Claimed:
    """A row this process has marked `sending`: what the sender needs to deliver it."""

    id: int
    kind: str
    platform: str
    target: str
    direct: bool
    payload: list[dict[str, Any]]
    member_id: int | None
    attempts: int
    parts: dict[str, str] | None = None
    doubt: bool = False


def _claim_statement(held_back: Mapping[str, Collection[str] | None]) -> Any:
    """The claim for these held-back platforms (their chats are filled in as expanding
    parameters `held_<n>`, so the statement's shape, and its compiled form, only depends
    on which platforms wait)."""
    c = _OUTBOX.c
    now = bindparam("now", type_=_WHEN)
    conditions = [
        c.status == "pending",
        c.due_at <= now,
        or_(c.not_before.is_(None), c.not_before <= now),
        or_(c.expires_at.is_(None), c.expires_at > now),
        c.platform.in_(bindparam("platforms", expanding=True)),
    ]
    for n, (platform, targets) in enumerate(sorted(held_back.items())):
        if targets is None:
            conditions.append(c.platform != platform)
        else:
            conditions.append(not_(and_(c.platform == platform,
                                        c.target.in_(bindparam(f"held_{n}", expanding=True)))))
    # A CTE, which PostgreSQL runs once (one with FOR UPDATE is never inlined): as a plain
    # IN (subquery) it may be run again for each row, and SKIP LOCKED would then pick
    # further rows past the limit.
    pick = (
        select(c.id).where(*conditions).order_by(c.due_at, c.id).limit(bindparam("rows"))
        .with_for_update(skip_locked=True).cte("picked")
    )
    return (
        update(_OUTBOX)
        .where(c.id.in_(select(pick.c.id)), c.status == "pending")
        .values(status="sending", attempts=c.attempts + 1,
                claimed_until=bindparam("until", type_=_WHEN))
        .returning(c.id, c.kind, c.platform, c.target, c.direct, c.payload, c.member_id,
                   c.attempts, c.parts, c.doubt)
    )


_CLAIMS: dict[tuple[tuple[str, bool], ...], Any] = {}
_FINISH = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("row_id"))
    .values(status=bindparam("new_status"), claimed_until=None, doubt=False,
            last_error=bindparam("error"), sent_at=bindparam("sent", type_=_WHEN),
            parts=bindparam("done", type_=_OUTBOX.c.parts.type))
)
_RETRY = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("row_id"))
    .values(status="pending", not_before=bindparam("again", type_=_WHEN), claimed_until=None,
            last_error=bindparam("error"), doubt=bindparam("in_doubt"),
            parts=bindparam("done", type_=_OUTBOX.c.parts.type))
)
_PARTS = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("row_id"))
    .values(parts=bindparam("done", type_=_OUTBOX.c.parts.type))
)

_RELEASE = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("row_id"))
    .values(status="pending", not_before=bindparam("again", type_=_WHEN), claimed_until=None,
            attempts=_OUTBOX.c.attempts - 1)
)


async def claim(
    session: Executor,
    now: datetime,
    lease: timedelta,
    platforms: Collection[str],
    held_back: Mapping[str, Collection[str] | None],
) -> Claimed | None:
    """Mark the oldest due row `sending` for this process (with a lease) and return it.

    `held_back` maps a platform to the targets that must wait now (for the rate limit, a
    429, or because this process is already sending to them; None: the whole platform
    waits). A row is due from `due_at`, and not before its `not_before`. On PostgreSQL
    rows other processes are claiming are skipped, not waited for.
    """
    found = await claim_some(session, now, lease, platforms, held_back, 1)
    return found[0] if found else None


async def claim_some(
    session: Executor,
    now: datetime,
    lease: timedelta,
    platforms: Collection[str],
    held_back: Mapping[str, Collection[str] | None],
    count: int,
) -> list[Claimed]:
    """Like `claim`, up to `count` rows in one statement, oldest first, at most one per
    chat: a second row to a chat already claimed goes back at once, as it was (no
    attempt used), since one chat never gets two messages at the same time."""
    held = {platform: targets for platform, targets in held_back.items()
            if targets is None or targets}
    shape = tuple(sorted((platform, targets is None) for platform, targets in held.items()))
    statement = _CLAIMS.get(shape)
    if statement is None:
        statement = _CLAIMS[shape] = _claim_statement(held)
    params: dict[str, Any] = {"now": now, "until": now + lease, "platforms": list(platforms),
                              "rows": count}
    for n, (_platform, targets) in enumerate(sorted(held.items())):
        if targets is not None:
            params[f"held_{n}"] = list(targets)
    claimed: dict[tuple[str, str], Claimed] = {}
    again = []
    for found in sorted((Claimed(*row) for row in await session.execute(statement, params)),
                        key=lambda row: row.id):
        if (found.platform, found.target) in claimed:
            again.append((found.id, None))
        else:
            claimed[found.platform, found.target] = found
    await release_many(session, again)
    return list(claimed.values())


async def finish(
    session: AsyncSession, row_id: int, status: str, now: datetime, error: str | None = None,
    parts: Mapping[int, str] | None = None,
) -> None:
    await session.execute(_FINISH, {"row_id": row_id, "new_status": status, "error": error,
                                    "sent": now if status == "sent" else None,
                                    "done": _parts_json(parts)})


async def release(session: Executor, row_id: int, not_before: datetime | None) -> None:
    """Back to pending, not before `not_before`, as if it had not been claimed: no attempt
    is used (the rate limit said no after the claim; `due_at` keeps its place)."""
    await session.execute(_RELEASE, {"row_id": row_id, "again": not_before})


@dataclass(frozen=True)
class Settled:
    """What became of one attempt, to be written with others': a final status, or
    `pending` again from `again` (with `doubt`: to be looked up first)."""

    row_id: int
    status: str
    error: str | None = None
    parts: Mapping[int, str] | None = None
    again: datetime | None = None
    doubt: bool = False


async def settle(db: Executor, settled: Sequence[Settled], now: datetime) -> None:
    """Write what became of several rows, at most two statements (`finish`, `retry`)."""
    finished = [{"row_id": s.row_id, "new_status": s.status, "error": s.error,
                 "sent": now if s.status == "sent" else None, "done": _parts_json(s.parts)}
                for s in settled if s.again is None]
    again = [{"row_id": s.row_id, "again": s.again, "error": s.error or "",
              "done": _parts_json(s.parts), "in_doubt": s.doubt}
             for s in settled if s.again is not None]
    if finished:
        await db.execute(_FINISH, finished)
    if again:
        await db.execute(_RETRY, again)


async def release_many(db: Executor, rows: Sequence[tuple[int, datetime | None]]) -> None:
    """`release` for several rows in one statement."""
    if rows:
        await db.execute(_RELEASE, [{"row_id": row_id, "again": not_before}
                                    for row_id, not_before in rows])


async def save_parts(session: AsyncSession, row_id: int, parts: Mapping[int, str]) -> None:
    """Record the posts of a row that went out so far (the row stays `sending`)."""
    await session.execute(_PARTS, {"row_id": row_id, "done": _parts_json(parts)})


def _parts_json(parts: Mapping[int, str] | None) -> dict[str, str] | None:
    return {str(n): ref for n, ref in sorted(parts.items())} if parts else None


def parts_of(row: Claimed) -> dict[int, str]:
    return {int(n): str(ref) for n, ref in (row.parts or {}).items()}


async def sweep(session: Executor, now: datetime,
                looked_up: Collection[str] = ()) -> dict[str, int]:
    """Settle rows nobody will send: expired ones, and ones whose sender died mid-send.

    A row whose sender died may have reached the platform. On a platform in `looked_up`
    (where the adapter can find a post by its outbox id) it goes back to pending in doubt,
    so its next attempt looks before posting; elsewhere the per-kind rule decides
    (`RESEND_WHEN_UNCERTAIN`). Posts recorded in `parts` are never sent again either way.
    """
    expired = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == "pending", OutboxMessage.expires_at <= now)
        .values(status="expired", last_error="not sent before it expired")
    )
    orphaned = OutboxMessage.status == "sending", OutboxMessage.claimed_until < now
    checked = await session.execute(
        update(OutboxMessage)
        .where(*orphaned, OutboxMessage.platform.in_(list(looked_up)))
        .values(status="pending", claimed_until=None, doubt=True,
                last_error="the sending process stopped; looking whether it arrived")
    )
    resent = await session.execute(
        update(OutboxMessage)
        .where(*orphaned, OutboxMessage.kind.in_(RESEND_WHEN_UNCERTAIN))
        .values(status="pending", claimed_until=None,
                last_error="the sending process stopped; sending again")
    )
    uncertain = await session.execute(
        update(OutboxMessage)
        .where(*orphaned, OutboxMessage.kind.not_in(RESEND_WHEN_UNCERTAIN))
        .values(status="uncertain", claimed_until=None,
                last_error="the sending process stopped while sending; it may have arrived")
    )
    counts = {"expired": _count(expired), "looked_up": _count(checked),
              "resent": _count(resent), "uncertain": _count(uncertain)}
    if any(counts.values()):
        logger.warning("outbox sweep: %s", counts)
    return counts


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


async def next_pending(session: Executor, platforms: Collection[str]
                       ) -> tuple[datetime | None, int]:
    """When the first pending row of these platforms may go, and how many are pending."""
    found = await session.execute(
        select(func.min(func.coalesce(OutboxMessage.not_before, OutboxMessage.due_at)),
               func.count())
        .where(OutboxMessage.status == "pending", OutboxMessage.platform.in_(list(platforms))))
    next_due, count = found.one()
    return next_due, int(count)


async def status_counts(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    )
    return {status: count for status, count in rows.all()}

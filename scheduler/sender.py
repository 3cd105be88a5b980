"""The sender: drains the outbox through the adapters, one message at a time.

Each message is claimed (marked `sending`, committed) right before its adapter is called
and settled right after, so a crash leaves at most the one message that was in flight in
doubt. What a platform's answer means is decided here, from the adapter's typed errors:
`Unreachable` fails the row and marks the member unreachable, `RetryLater` holds that chat
back and tries again after `retry_after`, `DeliveryUncertain` follows the per-kind policy
in docs/delivery.md. Rate limits are checked before each message; a chat that must wait
does not hold up the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.messages import Adapter, DeliveryUncertain, Reply, RetryLater, Unreachable
from bot.store.models import Member
from bot.store.schedule import OutboxMessage
from scheduler import outbox
from scheduler.outbox import Claimed
from scheduler.ratelimit import RateLimiter

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]
# Called when a message to a member finds them unreachable, before they are marked so and
# the row is settled, in a transaction of its own: it may queue other messages
# (scheduler/fallback.py) under their outbox key, so doing it again after a crash is
# harmless, and its failing cannot lose the row's outcome.
WhenUnreachable = Callable[[AsyncSession, Claimed, datetime], Awaitable[None]]
LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 8
BACKOFF = timedelta(seconds=30)  # after an unexpected error: 30 s, 1 min, 2 min, ...
# A platform that keeps asking to retry waits at least 5 s, 10 s, 20 s, ... from the
# second time on, so a short outage is ridden out; Retry-After is honoured when longer.
RETRY_BACKOFF = 5.0


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Outcome:
    """What became of one attempt: a final status, or pending again from `retry_at`."""

    status: str
    error: str | None = None
    retry_at: datetime | None = None
    unreachable: bool = False
    released: bool = False  # not attempted after all: the attempt is not counted


class Sender:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        adapters: Mapping[str, Adapter],
        *,
        clock: Clock = utc_now,
        limiter: RateLimiter | None = None,
        lease: timedelta = LEASE,
        max_attempts: int = MAX_ATTEMPTS,
        when_unreachable: WhenUnreachable | None = None,
    ) -> None:
        self.sessions = sessions
        self.when_unreachable = when_unreachable
        self.adapters = adapters
        self.clock = clock
        self.limiter = limiter or RateLimiter(lambda: clock().timestamp(), sessions=sessions)
        self.lease = lease
        self.max_attempts = max_attempts
        self._stopping = False
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def send_due(self, limit: int | None = None) -> int:
        """Send what is due and allowed now; returns how many messages were handled.

        One connection is held for the run; the outcome of a message is written in the
        same transaction that claims the next one, so each message costs one commit
        before and one after its platform call, shared with its neighbours.
        """
        handled = 0
        done: tuple[Claimed, Outcome] | None = None
        async with self._session() as session:
            async with session.begin():
                await outbox.sweep(session, self.clock())
            while True:
                more = not self._stopping and (limit is None or handled < limit)
                async with session.begin():
                    if done is not None:
                        await self._record(session, *done)
                        done = None
                    row = None
                    if more:
                        row = await outbox.claim(session, self.clock(), self.lease,
                                                 list(self.adapters),
                                                 await self.limiter.held_back())
                if row is None:
                    return handled
                done = (row, await self._attempt(row))
                handled += 1

    @contextlib.asynccontextmanager
    async def _session(self) -> AsyncIterator[AsyncSession]:
        """A session that keeps its connection between transactions (one per run)."""
        bind = self.sessions.kw.get("bind")
        if not isinstance(bind, AsyncEngine):
            async with self.sessions() as session:
                yield session
            return
        async with bind.connect() as connection:
            if connection.dialect.name == "postgresql":
                # Every statement the sender runs stands on its own (a claim is a single
                # UPDATE ... FOR UPDATE SKIP LOCKED), so PostgreSQL commits each one
                # directly instead of paying for BEGIN and COMMIT round trips.
                await connection.execution_options(isolation_level="AUTOCOMMIT")
            async with AsyncSession(bind=connection, expire_on_commit=False) as session:
                yield session

    async def drain(self, sleep: Sleep, rounds: int = 100_000) -> int:
        """Send until no pending message for this process's platforms is left, sleeping
        through rate limits and Retry-After (for tests and one-off runs; the service runs
        `run`). Messages other processes are sending are theirs to finish."""
        total = 0
        for _ in range(rounds):
            handled = await self.send_due()
            total += handled
            if handled:
                continue
            async with self.sessions() as session:
                waiting = await session.execute(
                    select(func.min(OutboxMessage.due_at), func.count())
                    .where(OutboxMessage.status == "pending",
                           OutboxMessage.platform.in_(list(self.adapters)))
                )
                next_due, count = waiting.one()
            if not count:
                return total
            now = self.clock()
            wait = await self.limiter.next_free()
            if next_due is not None and next_due > now:
                wait = min(wait or float("inf"), (next_due - now).total_seconds())
            await sleep(max(wait, 0.01))
        return total

    async def _attempt(self, row: Claimed) -> Outcome:
        """Hand one message to its adapter and say what became of it."""
        adapter = self.adapters[row.platform]
        where = f"outbox {row.id} ({row.kind} to {row.platform}:{row.target})"
        try:
            replies: list[Reply] = outbox.load_replies(row.payload)
        except (ValueError, KeyError, TypeError):
            logger.exception("%s has a payload that cannot be read", where)
            return Outcome("failed", "payload cannot be read")
        if (wait := await self.limiter.take(row.platform, row.target, row.direct)) > 0:
            # Another process took the chat's or the platform's last token first: this
            # row goes back as it was, to be tried when there is one (no attempt used).
            return Outcome("pending", retry_at=self.clock() + timedelta(seconds=wait),
                           released=True)
        try:
            if row.direct:
                await adapter.send_direct(row.target, replies)
            else:
                await adapter.send(row.target, replies)
        except Unreachable as exc:
            logger.warning("%s: unreachable: %s", where, exc)
            return Outcome("failed", f"unreachable: {exc}", unreachable=True)
        except RetryLater as exc:
            wait = exc.retry_after
            if row.attempts > 1:
                wait = max(wait, RETRY_BACKOFF * 2 ** (row.attempts - 2))
            await self.limiter.hold(row.platform, row.target, wait)
            logger.info("%s: platform asks to retry; again in %.1fs", where, wait)
            return self._again(row, timedelta(seconds=wait), f"retry later: {exc}")
        except DeliveryUncertain as exc:
            if row.kind in outbox.RESEND_WHEN_UNCERTAIN:
                logger.warning("%s: may not have arrived; %s is sent again", where, row.kind)
                return self._again(row, timedelta(0), f"uncertain, sending again: {exc}")
            logger.warning("%s: may or may not have arrived; not sent again", where)
            return Outcome("uncertain", f"uncertain: {exc}")
        except asyncio.CancelledError:
            logger.warning("%s: stopped while sending", where)
            status = "pending" if row.kind in outbox.RESEND_WHEN_UNCERTAIN else "uncertain"
            await asyncio.shield(self._record_alone(row, Outcome(status, "stopped while "
                                                                 "sending")))
            raise
        except Exception as exc:
            logger.exception("%s: adapter failed", where)
            return self._again(row, BACKOFF * 2 ** (row.attempts - 1),
                               f"{type(exc).__name__}: {exc}"[:500])
        return Outcome("sent")

    def _again(self, row: Claimed, after: timedelta, error: str) -> Outcome:
        if row.attempts >= self.max_attempts:
            logger.error("outbox %s: giving up after %s attempts", row.id, row.attempts)
            return Outcome("failed", error)
        return Outcome("pending", error, retry_at=self.clock() + after)

    async def _record(self, session: AsyncSession, row: Claimed, outcome: Outcome) -> None:
        now = self.clock()
        if outcome.released and outcome.retry_at is not None:
            await outbox.release(session, row.id, outcome.retry_at)
            return
        if outcome.retry_at is not None:
            await outbox.retry(session, row.id, outcome.retry_at, outcome.error or "")
            return
        if outcome.unreachable and row.member_id is not None:
            await self._when_unreachable(row, now)
            await session.execute(
                update(Member).where(Member.id == row.member_id).values(unreachable_at=now)
            )
        await outbox.finish(session, row.id, outcome.status, now, outcome.error)

    async def _when_unreachable(self, row: Claimed, now: datetime) -> None:
        """`when_unreachable` in its own transaction (see there); a failure is logged."""
        if self.when_unreachable is None:
            return
        try:
            async with self.sessions() as session, session.begin():
                await self.when_unreachable(session, row, now)
        except Exception:
            logger.exception("outbox %s: what follows an unreachable member failed", row.id)

    async def _record_alone(self, row: Claimed, outcome: Outcome) -> None:
        async with self.sessions() as session, session.begin():
            await self._record(session, row, outcome)

    # The service side: a loop woken by the scheduler's tick, stopped cleanly.

    def start(self, idle: float = 1.0) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self.run(idle), name="outbox-sender")

    def wake(self) -> None:
        self._wake.set()

    async def run(self, idle: float = 1.0) -> None:
        while not self._stopping:
            try:
                await self.send_due()
            except Exception:
                logger.exception("sending from the outbox failed; trying again shortly")
            self._wake.clear()
            wait = await self.limiter.next_free() or idle
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=min(wait, idle))

    async def stop(self, timeout: float = 10.0) -> None:
        """Let the message in flight finish (or settle it if it takes too long), then stop."""
        self._stopping = True
        self._wake.set()
        task, self._task = self._task, None
        if task is None:
            return
        done, _ = await asyncio.wait({task}, timeout=timeout)
        if not done:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


"""The sender: drains the outbox through the adapters, several chats at a time.

Each message is claimed (marked `sending`, committed) before its adapter is called and
settled after, so a crash leaves at most the messages in flight in doubt. Up to `width`
messages are in flight per process, never two to the same chat; a message counts as in
flight until it is settled. One transaction per round settles what ended, claims what
there is room for and takes its rate-limit tokens (docs/delivery.md, "Sending"). What a
platform's answer means is decided here, from the adapter's typed errors: `Unreachable`
fails the row and marks the member unreachable, `RetryLater` puts the row back with a
`not_before` time and holds that chat back (the other chats go on at once),
`DeliveryUncertain` is looked up on the next attempt where the adapter can (`looks_up`),
else follows the per-kind policy in docs/delivery.md. Only this module decides to send
again. A row of several posts records each post that went out (`Parts`), so a retry
sends only what is missing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from bot.messages import Adapter, DeliveryUncertain, Parts, Reply, RetryLater, Unreachable
from bot.outbox import load_replies
from bot.store import repo
from scheduler import outbox
from scheduler.outbox import Claimed
from scheduler.ratelimit import Contended, RateLimiter, limits_of

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
WIDTH = 8  # messages in flight per process, each to a different chat
# A post whose answer was lost is looked up this much later, when the platform has
# certainly finished with it (and without holding up anything meanwhile).
CHECK_AFTER = timedelta(seconds=2)
# How often a sender settles rows nobody will send (expired, or their sender died): at
# most once a second of its clock, not on every wake-up.
SWEEP_EVERY = timedelta(seconds=1)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Outcome:
    """What became of one attempt: a final status, or pending again from `retry_at`."""

    status: str
    error: str | None = None
    retry_at: datetime | None = None
    unreachable: bool = False
    doubt: bool = False


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
        width: int = WIDTH,
        check_after: timedelta = CHECK_AFTER,
    ) -> None:
        self.sessions = sessions
        self.when_unreachable = when_unreachable
        self.adapters = adapters
        self.clock = clock
        self.limiter = limiter or RateLimiter(lambda: clock().timestamp(), limits_of(adapters),
                                              sessions=sessions)
        for adapter in adapters.values():
            # An adapter that makes more API calls than the posts (Slack: look-ups, edits,
            # uploads) takes their per-method buckets from the same shared limiter.
            if share := getattr(adapter, "share_limits", None):
                share(self.limiter)
        self.lease = lease
        self.max_attempts = max_attempts
        self.width = width
        self.check_after = check_after
        self._busy: set[tuple[str, str]] = set()  # chats a message is in flight to
        self._parts: dict[int, Parts] = {}  # by outbox id, while in flight
        self._stopping = False
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._swept: datetime | None = None

    async def send_due(self, limit: int | None = None) -> int:
        """Send what is due and allowed now; returns how many messages were handled.

        Up to `width` sends run side by side, one per chat. Each round is one transaction
        on one connection: it settles the sends that ended since the last round, claims as
        many rows as there is room for and takes their rate-limit tokens at once (a row the
        limits refuse goes back as it was; other chats' rows are claimed next). A send that
        ended is in flight, its chat busy, until settled. Returns when nothing more can be
        claimed now and nothing is in flight.
        """
        handled = 0
        tasks: dict[asyncio.Task[Outcome], Claimed] = {}
        async with self.sessions.kw["bind"].connect() as db:  # kept between rounds
            await self._sweep(db)
            try:
                while True:
                    ended = [(tasks.pop(task), _result(task))
                             for task in [task for task in tasks if task.done()]]
                    room = 0 if self._stopping else self.width - len(tasks)
                    room = room if limit is None else min(room, limit - handled)
                    rows, refused = await self._round(db, ended, room)
                    handled += len(rows)
                    for row in rows:
                        self._busy.add((row.platform, row.target))
                        tasks[asyncio.create_task(self._attempt(row))] = row
                    if rows or refused:
                        continue  # the limiter now holds refused chats back: claim others
                    if not tasks:
                        return handled
                    # Nothing to claim, or no room: wait for a send to end; look again soon
                    await asyncio.wait(tasks, timeout=0.2, return_when=asyncio.FIRST_COMPLETED)
            except asyncio.CancelledError:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                for task, row in tasks.items():  # those that ended before they were cancelled
                    if not task.cancelled() and (outcome := _result(task)) is not None:
                        await asyncio.shield(self._settle_alone(row, outcome))
                raise

    async def _round(self, db: AsyncConnection, ended: list[tuple[Claimed, Outcome | None]],
                     room: int) -> tuple[list[Claimed], int]:
        """Settle the sends that `ended` and claim up to `room` rows, in one transaction;
        returns the rows to send now and how many claimed rows the limits refused."""
        settled: list[tuple[Claimed, Outcome]] = []
        for row, outcome in ended:
            if outcome is None:
                self._parts.pop(row.id, None)  # logged; the sweep settles it after the lease
            elif outcome.unreachable:  # rare, and with work in transactions of its own
                await self._settle_alone(row, outcome)
            else:
                settled.append((row, outcome))
        try:
            held = await self._held_back() if room > 0 else {}
            with contextlib.suppress(Contended):  # nothing of it happened: once more
                return await self._settle_and_claim(db, settled, held, room)
            return await self._settle_and_claim(db, settled, held, room)
        except Exception:
            if settled:
                logger.exception("settling %s rows together failed; one by one", len(settled))
                for row, outcome in settled:
                    await self._settle_alone(row, outcome)
            raise
        finally:
            for row, _outcome in ended:
                self._busy.discard((row.platform, row.target))

    async def _settle_and_claim(self, db: AsyncConnection, settled: list[tuple[Claimed, Outcome]],
                                held: dict[str, list[str] | None], room: int
                                ) -> tuple[list[Claimed], int]:
        if not settled and room <= 0:
            return [], 0
        now = self.clock()
        rows: list[Claimed] = []
        waits: list[float] = []  # seconds each row's chat must wait (0: take it now)
        async with db.begin():
            await outbox.settle(db, [self._settled(row, outcome) for row, outcome in settled],
                                now)
            if room > 0:
                rows = await outbox.claim_some(db, now, self.lease, list(self.adapters), held,
                                               room)
            if rows:
                waits = await self.limiter.take_many(
                    [(row.platform, row.target, row.direct) for row in rows], db)
                # Another process took the chat's or the platform's last token first, or the
                # platform's bucket ran dry within this claim: back as it was (no attempt).
                await outbox.release_many(db, [(row.id, now + timedelta(seconds=wait))
                                               for row, wait in zip(rows, waits, strict=True)
                                               if wait > 0])
        for row, _outcome in settled:  # settled for good, with or without room to claim
            self._parts.pop(row.id, None)
        return [row for row, wait in zip(rows, waits, strict=True) if wait == 0], sum(
            wait > 0 for wait in waits)

    async def _sweep(self, db: AsyncConnection) -> None:
        """Settle rows nobody will send (`outbox.sweep`), at most once a `SWEEP_EVERY`."""
        now = self.clock()
        if self._swept is not None and timedelta(0) <= now - self._swept < SWEEP_EVERY:
            return
        async with db.begin():
            await outbox.sweep(db, now, [name for name, adapter in self.adapters.items()
                                         if getattr(adapter, "looks_up", False)])
        self._swept = now

    async def _held_back(self) -> dict[str, list[str] | None]:
        """The rate limiter's waiting chats plus those a message is in flight to now."""
        held = await self.limiter.held_back()
        for platform, target in self._busy:
            chats = held.setdefault(platform, [])
            if chats is not None and target not in chats:
                chats.append(target)
        return held

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
                next_due, count = await outbox.next_pending(session, list(self.adapters))
            if not count:
                return total
            now = self.clock()
            wait = await self.limiter.next_free()
            if next_due is not None and next_due > now:
                wait = min(wait or float("inf"), (next_due - now).total_seconds())
            await sleep(max(wait, 0.01))
        return total

    async def _attempt(self, row: Claimed) -> Outcome:
        """Hand one message to its adapter and say what became of it. The posts that went
        out are in `self._parts[row.id]` afterwards (the adapter fills them in)."""
        adapter = self.adapters[row.platform]
        where = f"outbox {row.id} ({row.kind} to {row.platform}:{row.target})"
        try:
            replies: list[Reply] = load_replies(row.payload)
        except (ValueError, KeyError, TypeError):
            logger.exception("%s has a payload that cannot be read", where)
            return Outcome("failed", "payload cannot be read")
        parts = Parts(row.id, outbox.parts_of(row), doubt=row.doubt, save=self._saver(row.id))
        self._parts[row.id] = parts
        try:
            if getattr(adapter, "takes_parts", False):
                send: Any = adapter.send_direct if row.direct else adapter.send
                await send(row.target, replies, parts=parts)
            elif row.direct:
                await adapter.send_direct(row.target, replies)
            else:
                await adapter.send(row.target, replies)
        except Unreachable as exc:
            logger.warning("%s: unreachable: %s", where, exc)
            return Outcome("failed", f"unreachable: {exc}{_out(parts)}", unreachable=True)
        except RetryLater as exc:
            wait = exc.retry_after
            if row.attempts > 1:
                wait = max(wait, RETRY_BACKOFF * 2 ** (row.attempts - 2))
            await self.limiter.hold(row.platform, row.target, wait)
            logger.info("%s: platform asks to retry; again in %.1fs", where, wait)
            return self._again(row, timedelta(seconds=wait),
                               f"retry later: {exc}{_out(parts)}", doubt=parts.doubt)
        except DeliveryUncertain as exc:
            if getattr(adapter, "looks_up", False):
                logger.info("%s: answer lost; looking it up in %ss", where,
                            self.check_after.total_seconds())
                return self._again(row, self.check_after, f"in doubt, looking it up: {exc}",
                                   doubt=True)
            if row.kind in outbox.RESEND_WHEN_UNCERTAIN:
                logger.warning("%s: may not have arrived; %s is sent again", where, row.kind)
                return self._again(row, timedelta(0), f"uncertain, sending again: {exc}")
            logger.warning("%s: may or may not have arrived; not sent again", where)
            return Outcome("uncertain", f"uncertain: {exc}{_out(parts)}")
        except asyncio.CancelledError:
            logger.warning("%s: stopped while sending", where)
            if getattr(adapter, "looks_up", False):
                outcome = Outcome("pending", "stopped while sending; looking it up",
                                  retry_at=self.clock(), doubt=True)
            elif row.kind in outbox.RESEND_WHEN_UNCERTAIN:
                outcome = Outcome("pending", "stopped while sending", retry_at=self.clock())
            else:
                outcome = Outcome("uncertain", f"stopped while sending{_out(parts)}")
            await asyncio.shield(self._settle_alone(row, outcome))
            raise
        except Exception as exc:
            logger.exception("%s: adapter failed", where)
            return self._again(row, BACKOFF * 2 ** (row.attempts - 1),
                               f"{type(exc).__name__}: {exc}"[:500], doubt=parts.doubt)
        return Outcome("sent")

    def _saver(self, row_id: int) -> Callable[[Parts], Awaitable[None]]:
        async def save(parts: Parts) -> None:
            async with self.sessions() as session, session.begin():
                await outbox.save_parts(session, row_id, parts.sent)
        return save

    def _again(self, row: Claimed, after: timedelta, error: str, doubt: bool = False
               ) -> Outcome:
        if row.attempts >= self.max_attempts:
            logger.error("outbox %s: giving up after %s attempts", row.id, row.attempts)
            return Outcome("uncertain" if doubt else "failed", error)
        return Outcome("pending", error, retry_at=self.clock() + after, doubt=doubt)

    def _settled(self, row: Claimed, outcome: Outcome) -> outbox.Settled:
        """The row's settlement: the outcome with the posts that went out."""
        parts = self._parts.get(row.id)
        sent = parts.sent if parts is not None else outbox.parts_of(row)
        return outbox.Settled(row.id, outcome.status, outcome.error, dict(sent),
                              outcome.retry_at, outcome.doubt)

    async def _settle_alone(self, row: Claimed, outcome: Outcome) -> None:
        """Settle one row in a transaction of its own (after a failed round, on stopping,
        and for an unreachable member, whose `when_unreachable` comes first); a failure
        is logged (the lease runs out and the sweep settles the row then)."""
        try:
            now, member = self.clock(), row.member_id if outcome.unreachable else None
            if member is not None:
                await self._when_unreachable(row, now)
            async with self.sessions() as session, session.begin():
                if member is not None:
                    await repo.set_reachable(session, row.platform, None, False, now,
                                             member_id=member)
                await outbox.settle(session, [self._settled(row, outcome)], now)
            self._parts.pop(row.id, None)
        except Exception:
            logger.exception("outbox %s: could not settle the row", row.id)

    async def _when_unreachable(self, row: Claimed, now: datetime) -> None:
        """`when_unreachable` in its own transaction (see there); a failure is logged."""
        if self.when_unreachable is None:
            return
        try:
            async with self.sessions() as session, session.begin():
                await self.when_unreachable(session, row, now)
        except Exception:
            logger.exception("outbox %s: what follows an unreachable member failed", row.id)

    # The service side: a loop woken by the scheduler's tick, stopped cleanly.

    def start(self, idle: float = 1.0) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self.run(idle), name="outbox-sender")

    def wake(self) -> None:
        self._wake.set()

    async def run(self, idle: float = 1.0) -> None:
        while not self._stopping:
            self._wake.clear()  # before sending: a wake meanwhile (a new plan) is kept
            try:
                await self.send_due()
            except Exception:
                logger.exception("sending from the outbox failed; trying again shortly")
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


def _result(task: asyncio.Task[Outcome]) -> Outcome | None:
    """What an ended send came to (None if it failed in a way `_attempt` did not foresee:
    logged, its row waits for the sweep)."""
    if task.cancelled():
        return None
    if (error := task.exception()) is not None:
        logger.error("a send failed unexpectedly", exc_info=error)
        return None
    return task.result()


def _out(parts: Parts) -> str:
    """What a row's error says about its posts that did go out (nothing when none did)."""
    if not parts.sent:
        return ""
    return f" (posts {', '.join(str(n + 1) for n in sorted(parts.sent))} went out)"

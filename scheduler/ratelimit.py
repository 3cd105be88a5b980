"""Rate limits per platform, chat and API method, shared by every process that sends.

Each platform's description (adapters/) gives its published limits; its adapter carries
them as `limits`, and the sender hands them in (`limits_of`). These hold for the bot, not
for one process: three processes sending side by side must together stay under them. So
the buckets live in the database (table `rate_bucket`, bot/store/limits.py) when the
limiter is given the session factory; without it (unit tests, one process) they live in
this process's memory.

A bucket is kept as its "theoretical arrival time" (GCRA): `tat` moves on by one interval
(1 / rate) per message, and a message may go while `tat` is at most `burst - 1` intervals
ahead of now. Taking a token is one conditional UPDATE of that number, so it is atomic:
on PostgreSQL the row lock makes concurrent takers queue for a moment, on SQLite there is
one writer. A message that needs several buckets (Telegram's overall one and the chat's)
takes from all of them in one transaction, or from none. A chat that answered 429 with
Retry-After is held back for that long in the same row, for every process.

Times are seconds from the clock the limiter is given (the sending process's clock, so the
processes' clocks should agree, as NTP keeps them); tests pass a fake clock.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Float, Table, and_, bindparam, delete, func, literal, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.rates import PlatformLimits, Rate
from bot.store.limits import RateBucket

Seconds = Callable[[], float]

ALL, CHAT, CALL = "all", "chat", "call"  # the scopes of a bucket
Key = tuple[str, str, str]  # platform, scope, target ("" for ALL, "scope:method" for CALL)
# A refused take says at least this long, so a caller never spins on a bucket another
# process has just emptied and filled again.
MIN_WAIT = 0.01
# Times are doubles of about 1.8e9 seconds: sums of intervals are off by a few tenths of a
# microsecond, so a bucket counts as free within this much of now.
EPSILON = 1e-6
FORGET_AFTER = 600.0  # seconds a full, unheld bucket is kept before it is deleted
VIEW_FOR = 0.2  # seconds a process reuses its reading of what waits (see DatabaseBuckets)


@dataclass
class _State:
    tat: float = -math.inf
    held_until: float = -math.inf
    blocked_until: float = -math.inf


def _advance(state: _State, rate: Rate, now: float) -> None:
    """One message taken from the bucket: `tat` moves on by one interval."""
    state.tat = max(state.tat, now) + rate.interval
    state.blocked_until = max(state.tat - rate.tolerance, state.held_until)


class TokenBucket:
    """One bucket on its own, in memory (what the limiter keeps per key)."""

    def __init__(self, rate: Rate, clock: Seconds) -> None:
        self.rate = rate
        self.clock = clock
        self.state = _State()

    def wait(self) -> float:
        """Seconds until a token is available (0 when one is there now)."""
        wait = self.state.blocked_until - self.clock()
        return wait if wait > EPSILON else 0.0

    def take(self) -> None:
        _advance(self.state, self.rate, self.clock())


class Buckets(Protocol):
    """Where the buckets are kept; `rate` None means: only check the key's hold."""

    async def take(self, wanted: Sequence[tuple[Key, Rate | None]], now: float) -> float: ...

    async def hold(self, key: Key, until: float) -> None: ...

    async def until(self, keys: Sequence[Key]) -> float: ...

    async def blocked(self, now: float) -> list[tuple[Key, float]]: ...


class MemoryBuckets:
    """The buckets of one process (what each process had before they were shared)."""

    def __init__(self) -> None:
        self.states: dict[Key, _State] = {}

    async def take(self, wanted: Sequence[tuple[Key, Rate | None]], now: float) -> float:
        states = [self.states.get(key, _State()) for key, _ in wanted]
        wait = max((s.blocked_until - now for s in states), default=0.0)
        if wait > EPSILON:
            return max(wait, MIN_WAIT)
        for (key, rate), state in zip(wanted, states, strict=True):
            if rate is not None:
                _advance(state, rate, now)
                self.states[key] = state
        return 0.0

    async def hold(self, key: Key, until: float) -> None:
        state = self.states.setdefault(key, _State())
        state.held_until = max(state.held_until, until)
        state.blocked_until = max(state.blocked_until, until)

    async def until(self, keys: Sequence[Key]) -> float:
        return max((self.states[k].blocked_until for k in keys if k in self.states),
                   default=-math.inf)

    async def blocked(self, now: float) -> list[tuple[Key, float]]:
        for key, state in list(self.states.items()):
            if state.tat <= now and state.held_until <= now:
                del self.states[key]  # as good as a fresh bucket
        return [(k, s.blocked_until) for k, s in self.states.items()
                if s.blocked_until > now + EPSILON]


_TABLE: Table = RateBucket.__table__  # type: ignore[assignment]
_T = _TABLE.c


def _key_is(key: Key) -> Any:
    return and_(_T.platform == key[0], _T.scope == key[1], _T.target == key[2])


class DatabaseBuckets:
    """The buckets in table `rate_bucket`, shared by every process on the database.

    Core statements on a connection of the sessions' engine (no ORM): they run for every
    message sent.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        bind = sessions.kw.get("bind")
        if not isinstance(bind, AsyncEngine):
            raise TypeError("shared rate limits need a session factory bound to an engine")
        self.engine = bind
        postgres = bind.dialect.name == "postgresql"
        self._insert = postgresql.insert if postgres else sqlite.insert
        self._greatest = func.greatest if postgres else func.max
        self._tidied = -math.inf
        # What waits, as last read (at `_viewed_at`) plus this process's own takes and
        # holds since: `blocked` reads the table at most every VIEW_FOR seconds. Only a
        # hint for choosing what to send next; `take` alone decides, in the table.
        self._view: dict[Key, float] = {}
        self._viewed_at = -math.inf
        self._take_statement: Any = None

    def _upsert_take(self) -> Any:
        """Move a bucket on by one message if it has a token now; returns the row if so.
        Built once with parameters (it runs for every message): the key, `now`, the rate's
        interval and tolerance."""
        if self._take_statement is None:
            now, interval = bindparam("now", type_=Float), bindparam("interval", type_=Float)
            tolerance = bindparam("tolerance", type_=Float)
            tat = self._greatest(_T.tat, now) + interval
            self._take_statement = (
                self._insert(_TABLE)
                .values(platform=bindparam("platform"), scope=bindparam("scope"),
                        target=bindparam("target"), tat=now + interval, held_until=0.0,
                        blocked_until=now + interval - tolerance)
                .on_conflict_do_update(
                    index_elements=["platform", "scope", "target"],
                    set_={"tat": tat,
                          "blocked_until": self._greatest(tat - tolerance, _T.held_until)},
                    where=_T.blocked_until <= bindparam("free_from", type_=Float),
                )
                .returning(_T.blocked_until)
            )
        return self._take_statement

    async def take(self, wanted: Sequence[tuple[Key, Rate | None]], now: float) -> float:
        taken: dict[Key, float] = {}
        async with self.engine.connect() as connection:
            transaction = await connection.begin()
            for key, rate in wanted:  # always in the same order (overall, chat): no deadlock
                if rate is None:
                    until = await connection.scalar(
                        select(_T.blocked_until).where(_key_is(key)))
                    if until is not None and until > now + EPSILON:
                        break
                else:
                    row = (await connection.execute(self._upsert_take(), {
                        "platform": key[0], "scope": key[1], "target": key[2], "now": now,
                        "interval": rate.interval, "tolerance": rate.tolerance,
                        "free_from": now + EPSILON})).first()
                    if row is None:
                        break
                    taken[key] = float(row.blocked_until)
            else:
                await transaction.commit()
                for key, until in taken.items():
                    self._see(key, until)
                return 0.0
            rows = (await connection.execute(
                select(_T.platform, _T.scope, _T.target, _T.blocked_until)
                .where(or_(*(_key_is(key) for key, _ in wanted))))).all()
            await transaction.rollback()
        for platform, scope, target, until in rows:  # so `blocked` knows without reading
            self._see((platform, scope, target), float(until))
        return max(max((float(row[3]) for row in rows), default=now) - now, MIN_WAIT)

    async def hold(self, key: Key, until: float) -> None:
        at = literal(until, Float)
        async with self.engine.begin() as connection:
            await connection.execute(
                self._insert(_TABLE)
                .values(platform=key[0], scope=key[1], target=key[2], tat=0.0,
                        held_until=until, blocked_until=until)
                .on_conflict_do_update(
                    index_elements=["platform", "scope", "target"],
                    set_={"held_until": self._greatest(_T.held_until, at),
                          "blocked_until": self._greatest(_T.blocked_until, at)},
                )
            )
        self._see(key, until)

    def _see(self, key: Key, until: float) -> None:
        """What this process just did to a bucket, in its view of what waits."""
        self._view[key] = max(self._view.get(key, -math.inf), until)

    async def until(self, keys: Sequence[Key]) -> float:
        async with self.engine.connect() as connection:
            found = await connection.scalar(
                select(func.max(_T.blocked_until)).where(or_(*(_key_is(k) for k in keys))))
        return -math.inf if found is None else float(found)

    async def blocked(self, now: float) -> list[tuple[Key, float]]:
        if not 0 <= now - self._viewed_at < VIEW_FOR:
            await self._read(now)
        return [(k, until) for k, until in self._view.items() if until > now + EPSILON]

    async def _read(self, now: float) -> None:
        async with self.engine.begin() as connection:
            if now - self._tidied > FORGET_AFTER:
                self._tidied = now
                await connection.execute(delete(_TABLE).where(
                    _T.blocked_until < now - FORGET_AFTER, _T.tat < now - FORGET_AFTER,
                    _T.held_until < now - FORGET_AFTER))
            rows = await connection.execute(
                select(_T.platform, _T.scope, _T.target, _T.blocked_until)
                .where(_T.blocked_until > now + EPSILON))
            self._view = {(p, s, t): float(until) for p, s, t, until in rows}
            self._viewed_at = now


class RateLimiter:
    """The buckets of every platform, chat and API method: shared through the database
    when `sessions` is given, else kept in this process."""

    def __init__(
        self,
        clock: Seconds,
        limits: Mapping[str, PlatformLimits] | None = None,
        *,
        sessions: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        self.clock = clock
        self.limits: Mapping[str, PlatformLimits] = {} if limits is None else limits
        self.store: Buckets = (MemoryBuckets() if sessions is None
                               else DatabaseBuckets(sessions))

    def _wanted(self, platform: str, target: str, direct: bool) -> list[tuple[Key, Rate | None]]:
        """The platform's bucket, then the chat's (whose hold counts even without a rate)."""
        limits = self.limits.get(platform, PlatformLimits())
        wanted: list[tuple[Key, Rate | None]] = []
        if limits.overall is not None:
            wanted.append(((platform, ALL, ""), limits.overall))
        wanted.append(((platform, CHAT, target), limits.direct if direct else limits.group))
        return wanted

    async def wait(self, platform: str, target: str, direct: bool) -> float:
        """Seconds before a message to this chat may go (0: now)."""
        keys = [key for key, _ in self._wanted(platform, target, direct)]
        wait = await self.store.until(keys) - self.clock()
        return wait if wait > EPSILON else 0.0

    async def take(self, platform: str, target: str, direct: bool) -> float:
        """Take a token for one message to this chat from every bucket it needs, at once.

        0.0: taken, send now. More: nothing was taken (the chat or platform must wait, or
        another process took the last token first); do not send, try again that much later.
        """
        return await self.store.take(self._wanted(platform, target, direct), self.clock())

    async def take_call(self, platform: str, method: str, scope: str = "") -> float:
        """Like `take`, for one call of an API method limited per workspace (`scope`)."""
        rate = self.limits.get(platform, PlatformLimits()).calls.get(method)
        if rate is None:
            return 0.0
        return await self.store.take([((platform, CALL, f"{scope}:{method}"), rate)],
                                     self.clock())

    async def hold(self, platform: str, target: str, seconds: float) -> None:
        """The chat (not the whole platform) waits `seconds`, as a 429 asked, in every
        process."""
        await self.store.hold((platform, CHAT, target), self.clock() + seconds)

    async def held_back(self) -> dict[str, list[str] | None]:
        """What must wait right now: per platform None (all of it) or the waiting chats."""
        waiting: dict[str, list[str] | None] = {}
        for (platform, scope, target), _ in await self.store.blocked(self.clock()):
            if scope == ALL:
                waiting[platform] = None
            elif scope == CHAT:
                chats = waiting.setdefault(platform, [])
                if chats is not None and target not in chats:
                    chats.append(target)
        return waiting

    async def next_free(self) -> float:
        """Seconds until something held back may go again (0 when nothing waits)."""
        now = self.clock()
        return min((until - now for _, until in await self.store.blocked(now)), default=0.0)


def limits_of(adapters: Mapping[str, object]) -> dict[str, PlatformLimits]:
    """The limits each adapter declares as `limits` (one that declares none: no limits)."""
    found: dict[str, PlatformLimits] = {}
    for platform, adapter in adapters.items():
        limits = getattr(adapter, "limits", None)
        found[platform] = limits if isinstance(limits, PlatformLimits) else PlatformLimits()
    return found

"""Where the rate limits' buckets are kept: in this process's memory, or in the database
(table `rate_bucket`, bot/store/limits.py) so every process sending on it shares them.

A bucket is kept as its "theoretical arrival time" (GCRA): `tat` moves on by one interval
(1 / rate) per message, and a message may go while `tat` is at most `burst - 1` intervals
ahead of now. That rule is written once (`_take_from`), for both stores: the database
store reads and locks a batch's rows, applies it and writes back what moved, in one
transaction (on PostgreSQL the row locks make concurrent takers queue for a moment, on
SQLite there is one writer). A message that needs several buckets (Telegram's overall one
and the chat's) takes from all of them, or from none. The sender takes for a whole claim
at once (`take_many`), in its claim's transaction; one message is a batch of one. A chat
that answered 429 with Retry-After is held back for that long in the same row, for every
process.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import (
    Float,
    Table,
    and_,
    bindparam,
    delete,
    false,
    func,
    literal,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from bot.rates import Rate
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


Wanted = Sequence[tuple[Key, Rate | None]]  # one message's buckets, in a fixed order


def _take_from(states: dict[Key, _State], wanted: Wanted, now: float) -> float:
    """One message's take from `states` (a missing key is a full bucket): from all of its
    buckets or from none. 0.0: taken; more: the seconds until they all have a token."""
    wait = max((states[key].blocked_until - now for key, _ in wanted if key in states),
               default=0.0)
    if wait > EPSILON:
        return max(wait, MIN_WAIT)
    for key, rate in wanted:
        if rate is not None:
            _advance(states.setdefault(key, _State()), rate, now)
    return 0.0


class Contended(Exception):
    """Another process made a bucket this batch counted as new: the caller's transaction
    must be rolled back (nothing of the batch was taken) and may be tried again."""


class Buckets(Protocol):
    """Where the buckets are kept; `rate` None means: only check the key's hold."""

    async def take_many(self, wanted: Sequence[Wanted], now: float,
                        connection: AsyncConnection | None) -> list[float]: ...

    async def hold(self, key: Key, until: float) -> None: ...

    async def until(self, keys: Sequence[Key]) -> float: ...

    async def blocked(self, now: float) -> list[tuple[Key, float]]: ...


class MemoryBuckets:
    """The buckets of one process (what each process had before they were shared)."""

    def __init__(self) -> None:
        self.states: dict[Key, _State] = {}

    async def take_many(self, wanted: Sequence[Wanted], now: float,
                        connection: AsyncConnection | None = None) -> list[float]:
        return [_take_from(self.states, one, now) for one in wanted]

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


# A batch's buckets, locked in key order (PostgreSQL; SQLite has one writer anyway), and
# the new state of those that moved.
_LOCK = (select(_T.platform, _T.scope, _T.target, _T.tat, _T.held_until, _T.blocked_until)
         .where(tuple_(_T.platform, _T.scope, _T.target).in_(bindparam("keys", expanding=True)))
         .order_by(_T.platform, _T.scope, _T.target).with_for_update())
# A write that changes nothing: on SQLite it starts the write transaction (BEGIN is only
# sent before a write), so no other process writes between the read and the update.
_WRITE_FIRST = update(_TABLE).where(false()).values(tat=_T.tat)
_MOVE = (update(_TABLE)
         .where(_T.platform == bindparam("b_platform"), _T.scope == bindparam("b_scope"),
                _T.target == bindparam("b_target"))
         .values(tat=bindparam("b_tat"), blocked_until=bindparam("b_blocked")))


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
        postgres = self._postgres = bind.dialect.name == "postgresql"
        self._insert = postgresql.insert if postgres else sqlite.insert
        self._greatest = func.greatest if postgres else func.max
        self._tidied = -math.inf
        # What waits, as last read (at `_viewed_at`) plus this process's own takes and
        # holds since: `blocked` reads the table at most every VIEW_FOR seconds. Only a
        # hint for choosing what to send next; `take_many` alone decides, in the table.
        self._view: dict[Key, float] = {}
        self._viewed_at = -math.inf
        self._create_statement: Any = None

    async def take_many(self, wanted: Sequence[Wanted], now: float,
                        connection: AsyncConnection | None = None) -> list[float]:
        """Take a token for each message from all of its buckets or from none (0.0: taken;
        more: the seconds until they all have one), in the order given, in the caller's
        transaction (the sender's claim) when given. The buckets are read and locked in
        one statement, in key order (so two processes never wait for each other in a
        circle), and what changed is written back in at most two statements. Raises
        `Contended` when another process created one of the buckets meanwhile: the caller
        rolls back, and nothing was taken."""
        if connection is None:
            async with self.engine.begin() as own:
                return await self.take_many(wanted, now, own)
        if not self._postgres:  # SQLite: take the write lock before reading, not after
            await connection.execute(_WRITE_FIRST)
        keys = sorted({key for one in wanted for key, _ in one})
        found = await connection.execute(_LOCK, {"keys": keys})
        states = {(p, s, t): _State(tat, held, blocked)
                  for p, s, t, tat, held, blocked in found}
        had = {key: state.tat for key, state in states.items()}
        waits = [_take_from(states, one, now) for one in wanted]
        moved = [{"b_platform": k[0], "b_scope": k[1], "b_target": k[2], "b_tat": state.tat,
                  "b_blocked": state.blocked_until}
                 for k, state in states.items() if k in had and state.tat != had[k]]
        if moved:
            await connection.execute(_MOVE, moved)
        made = [{"platform": k[0], "scope": k[1], "target": k[2], "tat": state.tat,
                 "held_until": 0.0, "blocked_until": max(state.blocked_until, 0.0)}
                for k, state in sorted(states.items()) if k not in had]
        if made and len((await connection.execute(self._create(), made)).all()) < len(made):
            raise Contended(f"{len(made)} rate buckets made by another process meanwhile")
        for key, state in states.items():
            self._see(key, state.blocked_until)
        return waits

    def _create(self) -> Any:
        """New buckets, unless another process has just made one (then no row for it)."""
        if self._create_statement is None:
            self._create_statement = (
                self._insert(_TABLE)
                .on_conflict_do_nothing(index_elements=["platform", "scope", "target"])
                .returning(_T.target))
        return self._create_statement

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

"""The sender: rate limits on a fake clock, what each platform answer leads to, and the
scheduler starting, ticking and stopping inside the service."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.platforms import limits
from adapters.slack.limits import slack_limits
from bot.content import Content
from bot.messages import DeliveryUncertain, Reply, Text
from bot.outbox import Envelope, enqueue
from bot.rates import PlatformLimits, Rate
from bot.schedule.holidays import load_holidays
from bot.schedule.rules import Changes, configure
from bot.store.models import Member, Partnership
from bot.store.schedule import OutboxMessage
from scheduler import outbox
from scheduler.planner import plan_due
from scheduler.ratelimit import RateLimiter
from scheduler.runner import ScheduleRunner
from scheduler.sender import Sender
from tests.scheduler_fakes import HttpAdapter, add_members, fake_platform, utc

PLATFORM_LIMITS = limits()  # as each platform describes itself

NOW = utc(2026, 11, 24, 14, 30)  # Tuesday 15:30 in Amsterdam
HOLIDAYS = load_holidays()
Sessions = async_sessionmaker[Any]


@dataclass
class FakeTime:
    """A clock the sender reads and sleeps on; sleeping moves it on at once."""

    now: datetime = NOW
    slept: list[float] = field(default_factory=list)

    def __call__(self) -> datetime:
        return self.now

    def seconds(self) -> float:
        return self.now.timestamp()

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)
        await asyncio.sleep(0)


def approx(seconds: float) -> Any:
    """Times in the database are epoch seconds in a double: exact to about a microsecond."""
    return pytest.approx(seconds, abs=1e-5)


def limiters(time: FakeTime, sessions: Sessions) -> list[RateLimiter]:
    """The same limits kept in this process's memory and shared through the database."""
    return [RateLimiter(time.seconds, PLATFORM_LIMITS),
            RateLimiter(time.seconds, PLATFORM_LIMITS, sessions=sessions)]


async def test_a_bucket_refills_at_its_rate(sessions: Sessions) -> None:
    rates = {"x": PlatformLimits(direct=Rate(0.5, burst=3))}
    time = FakeTime()
    for limiter in (RateLimiter(time.seconds, rates),
                    RateLimiter(time.seconds, rates, sessions=sessions)):
        for _ in range(3):
            assert await limiter.take("x", "u", direct=True) == 0
        assert await limiter.wait("x", "u", direct=True) == approx(2.0)
        time.now += timedelta(seconds=1.5)
        assert await limiter.take("x", "u", direct=True) == approx(0.5)  # nothing taken
        time.now += timedelta(seconds=0.5)
        assert await limiter.take("x", "u", direct=True) == 0
        assert await limiter.take("x", "u", direct=True) == approx(2.0)
        time.now = NOW


async def test_telegram_limits_a_group_to_20_a_minute_and_the_bot_to_30_a_second(
    sessions: Sessions,
) -> None:
    for limiter in limiters(time := FakeTime(), sessions):
        assert await limiter.take("telegram", "-100group", direct=False) == 0
        assert await limiter.wait("telegram", "-100group", direct=False) == approx(3.0)
        # Refused, and nothing taken: the group still waits 3 s, not 6.
        assert await limiter.take("telegram", "-100group", direct=False) == approx(3.0)
        for n in range(29):
            assert await limiter.wait("telegram", f"user-{n}", direct=True) == 0
            assert await limiter.take("telegram", f"user-{n}", direct=True) == 0
        assert await limiter.wait("telegram", "user-99", direct=True) == approx(1 / 30)
        assert await limiter.take("telegram", "user-99", direct=True) == approx(1 / 30)
        assert await limiter.held_back() == {"telegram": None}  # the whole platform waits
        time.now += timedelta(seconds=1)
        assert await limiter.held_back() == {"telegram": ["-100group"]}
        time.now += timedelta(seconds=2)
        assert await limiter.held_back() == {}
        time.now = NOW


async def test_slack_spaces_messages_per_channel_and_other_channels_go_on(
    sessions: Sessions,
) -> None:
    for limiter in limiters(time := FakeTime(), sessions):
        assert await limiter.take("slack", "C1", direct=False) == 0
        assert await limiter.wait("slack", "C1", direct=False) == approx(1.0)
        assert await limiter.wait("slack", "C2", direct=False) == 0
        await limiter.hold("slack", "C2", 30)  # a 429 with Retry-After: 30
        assert await limiter.held_back() == {"slack": ["C1", "C2"]}
        assert await limiter.next_free() == approx(1.0)
        time.now += timedelta(seconds=1)
        assert await limiter.held_back() == {"slack": ["C2"]}
        assert await limiter.take("slack", "C2", direct=False) == approx(29.0)
        assert await limiter.wait("whatsapp", "x", direct=True) == 0  # no known limits
        await limiter.hold("whatsapp", "x", 5)  # a hold counts even without a rate
        assert await limiter.take("whatsapp", "x", direct=True) == approx(5.0)
        time.now += timedelta(seconds=29)
        assert await limiter.take("slack", "C2", direct=False) == 0
        time.now = NOW


async def test_slack_methods_are_limited_per_workspace(sessions: Sessions) -> None:
    for limiter in limiters(time := FakeTime(), sessions):
        for _ in range(5):  # tier 3: a burst of 5, then 50 a minute
            assert await limiter.take_call("slack", "conversations.history", "T1") == 0
        assert await limiter.take_call("slack", "conversations.history", "T1") == (
            approx(1.2))
        assert await limiter.take_call("slack", "conversations.history", "T2") == 0
        assert await limiter.take_call("slack", "chat.postMessage", "T1") == 0  # per channel
        time.now = NOW


async def test_a_claim_takes_its_tokens_at_once_and_each_message_all_or_none(
    sessions: Sessions,
) -> None:
    for limiter in limiters(time := FakeTime(), sessions):
        await limiter.hold("telegram", "u1", 5.0)
        for n in range(27):  # 27 of Telegram's burst of 30
            assert await limiter.take("telegram", f"x{n}", direct=True) == 0
        waits = await limiter.take_many([("telegram", f"u{n}", True) for n in range(1, 6)])
        # u1 is held back and takes no overall token; u2-u4 get the last three; u5 waits.
        assert waits == [approx(5.0), 0, 0, 0, approx(1 / 30)]
        assert await limiter.take("telegram", "u2", direct=True) > 0  # u2's token is taken
        time.now = NOW


async def test_slack_history_look_ups_can_be_held_to_one_a_minute() -> None:
    """An app distributed outside the Marketplace (ACHTJE_SLACK_HISTORY_PER_MINUTE=1)."""
    time = FakeTime()
    limiter = RateLimiter(time.seconds, {"slack": slack_limits(1.0)})
    assert await limiter.take_call("slack", "conversations.history", "T1") == 0
    assert await limiter.take_call("slack", "conversations.replies", "T1") == 0  # its own
    assert await limiter.take_call("slack", "conversations.history", "T1") == approx(60.0)
    time.now += timedelta(seconds=60)
    assert await limiter.take_call("slack", "conversations.history", "T1") == 0
    assert slack_limits().calls["conversations.history"] == Rate(50 / 60, burst=5.0)


def envelope(pid: int, n: int, target: str, kind: str = "checkin", direct: bool = True,
             platform: str = "slack") -> Envelope:
    return Envelope(kind, pid, f"r:{n}", date(2026, 11, 24), platform, target, direct,
                           (Text(text=f"bericht {n}"),), NOW, NOW + timedelta(hours=3))


async def queue(sessions: Sessions, envelopes: Sequence[Envelope]) -> None:
    async with sessions() as session, session.begin():
        await enqueue(session, envelopes, NOW)


async def new_partnership(sessions: Sessions) -> int:
    async with sessions() as session, session.begin():
        partnership = Partnership(name="P", created_at=NOW)
        session.add(partnership)
        await session.flush()
        return partnership.id


async def rows(sessions: Sessions) -> list[OutboxMessage]:
    async with sessions() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_a_429_mid_fan_out_loses_nothing_and_other_chats_go_on(
    sessions: Sessions,
) -> None:
    pid = await new_partnership(sessions)
    await queue(sessions, [envelope(pid, n, f"D{n}") for n in range(1, 9)])
    time = FakeTime()
    async with fake_platform(throttle={"D3": [2.0, 1.0]}) as fake:
        adapter = HttpAdapter(fake.url, platform="slack")
        await adapter.start()
        try:
            sender = Sender(sessions, {"slack": adapter}, clock=time,
                            limiter=RateLimiter(time.seconds, PLATFORM_LIMITS))
            assert await sender.drain(time.sleep) == 10
        finally:
            await adapter.stop()
    assert [r.chat for r in fake.received] == [f"D{n}" for n in (1, 2, 4, 5, 6, 7, 8, 3)]
    assert fake.attempts["D3"] == 3 and fake.duplicates() == {}
    sent = {r.target: r for r in await rows(sessions)}
    assert all(r.status == "sent" for r in sent.values())
    assert all(sent[f"D{n}"].sent_at == NOW for n in (1, 2, 4, 5, 6, 7, 8))
    # Waited the 2 s it was asked to, then 5 s: a second Retry-After backs off further.
    assert sent["D3"].sent_at == NOW + timedelta(seconds=7)
    assert sent["D3"].attempts == 3


async def test_messages_to_one_slack_channel_go_a_second_apart(sessions: Sessions) -> None:
    pid = await new_partnership(sessions)
    await queue(sessions, [envelope(pid, n, "C1", direct=False) for n in range(3)]
                + [envelope(pid, 9, "C2", direct=False)])
    time = FakeTime()
    async with fake_platform() as fake:
        adapter = HttpAdapter(fake.url, platform="slack")
        await adapter.start()
        try:
            sender = Sender(sessions, {"slack": adapter}, clock=time,
                            limiter=RateLimiter(time.seconds, PLATFORM_LIMITS))
            await sender.drain(time.sleep)
        finally:
            await adapter.stop()
    sent = [(r.target, r.sent_at) for r in await rows(sessions)]
    assert sent == [("C1", NOW), ("C1", NOW + timedelta(seconds=1)),
                    ("C1", NOW + timedelta(seconds=2)), ("C2", NOW)]


async def test_a_claim_the_limits_refuse_whole_goes_on_to_other_chats(
    sessions: Sessions,
) -> None:
    """Another process took C1's token after this one last read the buckets: this sender
    claims C1's row (room for one), is refused, and sends C2's in the same call."""
    pid = await new_partnership(sessions)
    time = FakeTime()
    mine = RateLimiter(time.seconds, PLATFORM_LIMITS, sessions=sessions)
    assert await mine.held_back() == {}  # read now, kept for a moment
    other = RateLimiter(time.seconds, PLATFORM_LIMITS, sessions=sessions)
    assert await other.take("slack", "C1", direct=False) == 0
    await queue(sessions, [envelope(pid, 1, "C1", direct=False),
                           envelope(pid, 2, "C2", direct=False)])
    async with fake_platform() as fake:
        adapter = HttpAdapter(fake.url, platform="slack")
        await adapter.start()
        try:
            sender = Sender(sessions, {"slack": adapter}, clock=time, limiter=mine, width=1)
            assert await sender.send_due() == 1
        finally:
            await adapter.stop()
    assert [r.chat for r in fake.received] == ["C2"]
    c1 = (await rows(sessions))[0]
    assert (c1.status, c1.attempts) == ("pending", 0)
    assert c1.not_before is not None and c1.not_before.replace(tzinfo=None) > (
        NOW.replace(tzinfo=None))  # when C1's bucket has a token again


async def test_an_unreachable_member_is_marked_and_left_out_of_the_next_round(
    sessions: Sessions, content: Content,
) -> None:
    async with sessions() as session, session.begin():
        partnership = Partnership(name="P", created_at=NOW)
        session.add(partnership)
        await session.flush()
        add_members(session, partnership.id, 3)
        await configure(session, HOLIDAYS, partnership, Changes(first=date(2026, 11, 24)),
                        NOW - timedelta(hours=1))
    await plan_due(sessions, content, HOLIDAYS, NOW)
    async with fake_platform(gone={"user-2"}) as fake:
        adapter = HttpAdapter(fake.url)
        await adapter.start()
        try:
            await Sender(sessions, {"fake": adapter}, clock=lambda: NOW).drain(asyncio.sleep)
        finally:
            await adapter.stop()
    assert [r.chat for r in fake.received] == ["user-1", "user-3"]
    failed = [r for r in await rows(sessions) if r.status == "failed"]
    assert [r.target for r in failed] == ["user-2"]
    assert failed[0].last_error is not None and "unreachable" in failed[0].last_error
    async with sessions() as session:
        member = await session.scalar(select(Member).where(Member.user_ref == "user-2"))
    assert member is not None and member.unreachable_at == NOW

    await plan_due(sessions, content, HOLIDAYS, NOW + timedelta(weeks=2))
    next_round = [r.target for r in await rows(sessions) if r.local_date == date(2026, 12, 8)]
    assert next_round == ["user-1", "user-3"]


async def test_a_failing_unreachable_hook_loses_neither_the_outcome_nor_half_its_work(
    sessions: Sessions, content: Content,
) -> None:
    """What follows an unreachable member runs in a transaction of its own: a database
    error there keeps nothing of it and still settles the row and marks the member."""
    async with sessions() as session, session.begin():
        partnership = Partnership(name="P", created_at=NOW)
        session.add(partnership)
        await session.flush()
        add_members(session, partnership.id, 2)
        await configure(session, HOLIDAYS, partnership, Changes(first=date(2026, 11, 24)),
                        NOW - timedelta(hours=1))
        pid = partnership.id
    await plan_due(sessions, content, HOLIDAYS, NOW)

    async def broken(session: Any, row: outbox.Claimed, now: datetime) -> None:
        await enqueue(session, [envelope(pid, 99, "C-half", direct=False)], now)
        session.add(Partnership(id=pid, name="twice", created_at=now))
        await session.flush()  # the primary key is taken: IntegrityError

    async with fake_platform(gone={"user-2"}) as fake:
        adapter = HttpAdapter(fake.url)
        await adapter.start()
        try:
            await Sender(sessions, {"fake": adapter}, clock=lambda: NOW,
                         when_unreachable=broken).drain(asyncio.sleep)
        finally:
            await adapter.stop()
    assert [(r.target, r.status) for r in await rows(sessions)] == [
        ("user-1", "sent"), ("user-2", "failed")]
    async with sessions() as session:
        member = await session.scalar(select(Member).where(Member.user_ref == "user-2"))
    assert member is not None and member.unreachable_at == NOW


class ScriptedAdapter:
    """Raises the scripted errors per chat, in order, then accepts; records what it got."""

    platform = "fake"

    def __init__(self, script: dict[str, list[Exception]], hold: asyncio.Event | None = None
                 ) -> None:
        self.script = script
        self.hold = hold
        self.entered = asyncio.Event()
        self.got: list[tuple[str, list[Reply]]] = []

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def send(self, chat: str, replies: Sequence[Reply]) -> None:
        await self.send_direct(chat, replies)

    async def send_direct(self, user: str, replies: Sequence[Reply]) -> None:
        self.entered.set()
        if self.hold is not None:
            await self.hold.wait()
        if self.script.get(user):
            raise self.script[user].pop(0)
        self.got.append((user, list(replies)))


async def test_a_timeout_leaves_a_checkin_uncertain_but_a_summary_is_sent_again(
    sessions: Sessions,
) -> None:
    pid = await new_partnership(sessions)
    await queue(sessions, [envelope(pid, 1, "anna", platform="fake"),
                           envelope(pid, 2, "bert", kind="summary", platform="fake")])
    adapter = ScriptedAdapter({"anna": [DeliveryUncertain("timed out")],
                               "bert": [DeliveryUncertain("timed out")]})
    time = FakeTime()
    await Sender(sessions, {"fake": adapter}, clock=time).drain(time.sleep)
    assert [user for user, _ in adapter.got] == ["bert"]
    assert [(r.target, r.status, r.attempts) for r in await rows(sessions)] == [
        ("anna", "uncertain", 1), ("bert", "sent", 2)]


async def test_an_adapter_bug_is_retried_with_backoff_and_then_given_up(
    sessions: Sessions,
) -> None:
    pid = await new_partnership(sessions)
    await queue(sessions, [envelope(pid, 1, "anna", platform="fake")])
    adapter = ScriptedAdapter({"anna": [RuntimeError("boom")] * 5})
    time = FakeTime()
    sender = Sender(sessions, {"fake": adapter}, clock=time, max_attempts=3)
    await sender.drain(time.sleep)
    [row] = await rows(sessions)
    assert (row.status, row.attempts, row.last_error) == ("failed", 3, "RuntimeError: boom")
    assert time.now - NOW == timedelta(seconds=30 + 60)


async def test_stopping_lets_the_message_in_flight_finish_or_settles_it(
    sessions: Sessions,
) -> None:
    pid = await new_partnership(sessions)
    await queue(sessions, [envelope(pid, 1, "anna", platform="fake"),
                           envelope(pid, 2, "bert", platform="fake"),
                           envelope(pid, 3, "carl", platform="fake")])
    release = asyncio.Event()
    adapter = ScriptedAdapter({}, hold=release)
    sender = Sender(sessions, {"fake": adapter}, clock=lambda: NOW, width=2)
    sender.start()
    await asyncio.wait_for(adapter.entered.wait(), timeout=10)
    await asyncio.sleep(0.1)  # the second chat's message is in flight too
    stopping = asyncio.create_task(sender.stop(timeout=10))
    await asyncio.sleep(0.05)
    release.set()  # the messages in flight finish; nothing new is started
    await stopping
    assert [(r.target, r.status) for r in await rows(sessions)] == [
        ("anna", "sent"), ("bert", "sent"), ("carl", "pending")]
    assert sender._parts == {}  # settled while stopping: their posts are not kept in memory

    stuck = ScriptedAdapter({}, hold=asyncio.Event())  # never answers
    sender = Sender(sessions, {"fake": stuck}, clock=lambda: NOW)
    sender.start()
    await asyncio.wait_for(stuck.entered.wait(), timeout=10)
    await sender.stop(timeout=0.05)
    assert [(r.target, r.status) for r in await rows(sessions)] == [
        ("anna", "sent"), ("bert", "sent"), ("carl", "uncertain")]


async def test_the_scheduler_ticks_plans_sends_and_stops_cleanly(
    sessions: Sessions, content: Content,
) -> None:
    async with sessions() as session, session.begin():
        partnership = Partnership(name="P", created_at=NOW)
        session.add(partnership)
        await session.flush()
        add_members(session, partnership.id, 4)
        await configure(session, HOLIDAYS, partnership, Changes(first=date(2026, 11, 24)),
                        NOW - timedelta(hours=1))
    adapter = ScriptedAdapter({})
    runner = ScheduleRunner(sessions, content, HOLIDAYS, {"fake": adapter}, clock=lambda: NOW,
                            tick_seconds=3600)
    await runner.start()
    try:
        for _ in range(500):
            if len(adapter.got) == 4:
                break
            await asyncio.sleep(0.02)
    finally:
        await runner.stop()
    assert sorted(user for user, _ in adapter.got) == ["user-1", "user-2", "user-3", "user-4"]
    assert {r.status for r in await rows(sessions)} == {"sent"}
    assert runner.sender._task is None


async def test_the_service_starts_the_scheduler_after_the_adapters_and_stops_it_first(
    tmp_path: Any, content: Content, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot import service
    from bot.settings import Settings
    from bot.store import db

    url = f"sqlite+aiosqlite:///{tmp_path / 's.db'}"
    engine, sessions = await db.connect(url)
    pid = await new_partnership(sessions)
    due = Envelope("checkin", pid, "r:1", date(2026, 11, 24), "fake", "anna", True,
                          (Text(text="hoi"),), utc(2020, 1, 1), None)
    async with sessions() as session, session.begin():
        await enqueue(session, [due], NOW)
    await engine.dispose()

    events: list[str] = []

    class Recording(ScriptedAdapter):
        async def start(self) -> None:
            events.append("adapter started")

        async def stop(self) -> None:
            events.append("adapter stopped")

    adapter = Recording({})
    monkeypatch.setattr(service, "builders", lambda: {"fake": lambda *_: adapter})
    monkeypatch.setattr(service, "configured", lambda settings: ["fake"])
    monkeypatch.setattr(ScheduleRunner, "stop", _recorded(ScheduleRunner.stop, events))
    stop = asyncio.Event()
    running = asyncio.create_task(service.serve(
        Settings(database_url=url, scheduler_tick=0.2), content, stop))
    for _ in range(500):
        if adapter.got:
            break
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(running, timeout=20)
    assert adapter.got == [("anna", [Text(text="hoi")])]
    assert events == ["adapter started", "scheduler stopped", "adapter stopped"]


def _recorded(stop: Any, events: list[str]) -> Any:
    async def recorded(self: ScheduleRunner, timeout: float = 10.0) -> None:
        await stop(self, timeout)
        events.append("scheduler stopped")
    return recorded

"""Scheduled check-ins over real HTTP against the fake Slack and Telegram, with the faults
a busy platform produces: answers lost after the post was taken, 429 with Retry-After,
5xx, a sender killed between the two posts of a check-in. Every member ends up with the
intro and the question exactly once, or the row says why not; one chat's 429 holds up
no other chat."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.content import Content
from bot.engine import Engine
from bot.schedule.holidays import load_holidays
from bot.schedule.rules import Changes, configure
from bot.store import db
from bot.store.models import Member, Partnership
from bot.store.schedule import OutboxMessage
from scheduler.planner import plan_due
from scheduler.sender import Sender
from tests.conftest import POSTGRES_URL, postgres_only, reset_postgres
from tests.scheduler_fakes import utc
from tests.slack_fakes import Call, Chaos, FakeSlack, dm_of, slack_rig
from tests.telegram_fakes import running

NOW = utc(2026, 11, 24, 14, 30)  # Tuesday 15:30 in Amsterdam: the check-in's minute
HOLIDAYS = load_holidays()
ROOT = Path(__file__).parent.parent
Sessions = async_sessionmaker[Any]


async def due_checkins(sessions: Sessions, content: Content, members: int,
                       platform: str = "slack") -> int:
    """A partnership with `members` onboarded members on `platform` and its check-in due
    at NOW, planned: one outbox row (intro + first statement) per member."""
    async with sessions() as session, session.begin():
        partnership = Partnership(name="Leerlab", created_at=NOW)
        session.add(partnership)
        await session.flush()
        session.add_all(Member(
            partnership_id=partnership.id, platform=platform, user_ref=ref(platform, n),
            display_name=f"Lid {n}", level="teachers", role="member", language="nl",
            onboarded_at=utc(2026, 9, 1), created_at=utc(2026, 9, 1))
            for n in range(1, members + 1))
        await configure(session, HOLIDAYS, partnership, Changes(first=date(2026, 11, 24)),
                        NOW - timedelta(hours=1))
    return await plan_due(sessions, content, HOLIDAYS, NOW)


def ref(platform: str, n: int) -> str:
    return f"T1:U{n}" if platform == "slack" else str(1000 + n)


def running_clock() -> Any:
    """The sender's clock: NOW, running on in real time (Retry-After is real seconds)."""
    started = time.monotonic()
    return lambda: NOW + timedelta(seconds=time.monotonic() - started)


def checkins_seen(fake: FakeSlack, members: int) -> Iterator[tuple[int, list[str]]]:
    """Per member, the texts of the posts in their DM, in order."""
    for n in range(1, members + 1):
        yield n, [m.text for m in fake.in_channel(f"DU{n}")]


async def statuses(sessions: Sessions) -> Counter[str]:
    async with sessions() as session:
        return Counter((await session.scalars(select(OutboxMessage.status))).all())


async def test_300_slack_check_ins_arrive_once_and_whole_despite_lost_answers_and_429s(
    sessions: Sessions, content: Content, engine: Engine
) -> None:
    assert await due_checkins(sessions, content, 300) == 300
    async with slack_rig(engine) as slack:
        slack.fake.chaos = chaos = Chaos(drop=0.03, throttle=0.10, error=0.03)
        sender = Sender(sessions, {"slack": slack.adapter}, clock=running_clock(),
                        check_after=timedelta(seconds=0.2))
        await sender.drain(asyncio.sleep)
        seen = dict(checkins_seen(slack.fake, 300))
    # The faults really happened, and enough of them.
    assert chaos.counts["drop"] >= 5 and chaos.counts["throttle"] >= 20
    assert chaos.counts["error"] >= 5
    intro = content.text("sched_checkin_invite", "nl", count=6)
    wrong = {n: texts for n, texts in seen.items()
             if len(texts) != 2 or texts[0] != intro or texts[1] == intro}
    assert wrong == {}  # no doubles, no intro without its question, nobody left out
    assert await statuses(sessions) == {"sent": 300}


@pytest.mark.parametrize("lookup_throttled", [False, True])
async def test_a_lost_answer_is_looked_up_not_posted_again(
    sessions: Sessions, content: Content, engine: Engine, lookup_throttled: bool
) -> None:
    """Slack took the question, the answer was lost: the next attempt finds it in the DM's
    history by its metadata and posts nothing more. The intro had gone out before. A
    lookup that Slack answers with 429 is tried again later, still before any post."""
    await due_checkins(sessions, content, 1)
    async with slack_rig(engine) as slack:
        posted = 0

        def second_is_dropped(call: Call) -> bool:
            nonlocal posted
            posted += 1
            if posted == 2:
                slack.fake.drop_next("chat.postMessage")
            return True

        slack.fake.on_post = second_is_dropped
        if lookup_throttled:
            slack.fake.fail_next("conversations.history", status=429, retry_after=0)
        sender = Sender(sessions, {"slack": slack.adapter}, clock=running_clock(),
                        check_after=timedelta(seconds=0.1))
        await sender.drain(asyncio.sleep)
        lookups = 2 if lookup_throttled else 1
        assert len(slack.fake.of("conversations.history")) == lookups
        assert len(slack.fake.of("chat.postMessage")) == 2  # no post after the lost one
        assert len(slack.fake.in_channel("DU1")) == 2
        assert slack.fake.of("conversations.history")[0].args["include_all_metadata"]
    async with sessions() as session:
        row = await session.scalar(select(OutboxMessage))
    assert row is not None and row.status == "sent" and row.attempts == 1 + lookups
    assert sorted(row.parts or {}) == ["0", "1"]


async def run_worker(database_url: str, api_url: str, now: datetime
                     ) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.slack_worker", "--db", database_url, "--api-url",
        api_url, "--now", now.isoformat(), cwd=ROOT, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)


async def test_a_sender_killed_between_the_two_posts_sends_only_the_question_later(
    database_url: str, content: Content
) -> None:
    engine, sessions = await db.connect(database_url)
    fake = FakeSlack()
    await fake.start()
    try:
        await due_checkins(sessions, content, 3)
        worker: asyncio.subprocess.Process | None = None

        def kill_at_the_third_question(call: Call) -> bool:
            """Member 3's question: the sender dies before Slack takes it."""
            if call.args.get("channel") == "DU3" and call.args["metadata"][
                    "event_payload"]["part"] == 1:
                assert worker is not None
                worker.send_signal(signal.SIGKILL)
                return False
            return True

        fake.on_post = kill_at_the_third_question
        worker = await run_worker(database_url, fake.api_url, NOW)
        await asyncio.wait_for(worker.communicate(), timeout=60)
        assert worker.returncode == -signal.SIGKILL
        assert [m.text for m in fake.in_channel("DU3")] == [
            content.text("sched_checkin_invite", "nl", count=6)]

        fake.on_post = None
        restarted = await run_worker(database_url, fake.api_url, NOW + timedelta(minutes=10))
        _, errors = await asyncio.wait_for(restarted.communicate(), timeout=60)
        assert restarted.returncode == 0, errors.decode()
        for n, texts in checkins_seen(fake, 3):
            assert len(texts) == 2 and texts[0] != texts[1], (n, texts)
        assert await statuses(sessions) == {"sent": 3}
    finally:
        await fake.stop()
        await engine.dispose()


async def test_a_429_in_one_slack_chat_holds_up_no_other_chat(
    sessions: Sessions, content: Content, engine: Engine
) -> None:
    """Member 1's DM answers 429 with Retry-After 30: the sender puts that row back and
    goes on with member 2 at once, even one message at a time."""
    await due_checkins(sessions, content, 2)
    async with slack_rig(engine) as slack:
        slack.fake.throttled["DU1"] = [30]
        sender = Sender(sessions, {"slack": slack.adapter}, clock=running_clock(), width=1)
        assert await sender.send_due() == 2
        calls = [(dm_of(c.args["channel"]), c.failed)
                 for c in slack.fake.of("chat.postMessage")]
    # Member 1's first post was refused once and not tried again inside the call;
    # member 2's check-in came right after it (the DM each post went to).
    assert calls == [("DU1", True), ("DU2", False), ("DU2", False)]
    async with sessions() as session:
        rows = {r.target: r for r in await session.scalars(select(OutboxMessage))}
    assert rows["T1:U2"].status == "sent"
    first = rows["T1:U1"]
    assert first.status == "pending" and first.not_before is not None
    assert first.not_before - first.due_at >= timedelta(seconds=30)
    assert "retry later" in (first.last_error or "")


async def test_300_telegram_check_ins_arrive_once_and_whole_despite_flood_waits_and_502s(
    sessions: Sessions, content: Content, engine: Engine
) -> None:
    assert await due_checkins(sessions, content, 300, "telegram") == 300
    async for bot in running(engine, "webhook"):
        bot.fake.chaos_flood, bot.fake.chaos_error = 0.10, 0.03
        sender = Sender(sessions, {"telegram": bot.adapter}, clock=running_clock())
        await sender.drain(asyncio.sleep)
        counts = bot.fake.chaos_counts
        seen = {n: [c.text for c in bot.fake.sent(1000 + n) if "message_id" in c.params]
                for n in range(1, 301)}
    assert counts["flood"] >= 20 and counts["error"] >= 5
    intro = content.text("sched_checkin_invite", "nl", count=6)
    wrong = {n: texts for n, texts in seen.items()
             if len(texts) != 2 or texts[0] != intro or texts[1] == intro}
    assert wrong == {}
    assert await statuses(sessions) == {"sent": 300}


async def test_a_flood_wait_in_one_telegram_chat_holds_up_no_other_chat(
    sessions: Sessions, content: Content, engine: Engine
) -> None:
    """Member 1's chat answers 429 (retry after 30 s): no limiter sleeps it out or halts
    other requests; member 2's check-in goes at once, even one message at a time."""
    await due_checkins(sessions, content, 2, "telegram")
    async for bot in running(engine, "webhook"):
        bot.fake.flood[1001] = [30]
        sender = Sender(sessions, {"telegram": bot.adapter}, clock=running_clock(), width=1)
        assert await sender.send_due() == 2
        calls = [(c.chat, "message_id" in c.params) for c in bot.fake.sent()]
    assert calls == [(1001, False), (1002, True), (1002, True)]
    async with sessions() as session:
        rows = {r.target: r for r in await session.scalars(select(OutboxMessage))}
    assert rows["1002"].status == "sent"
    first = rows["1001"]
    assert first.status == "pending" and first.not_before is not None
    assert first.not_before - first.due_at >= timedelta(seconds=30)


@pytest.mark.postgres
@postgres_only
async def test_three_sender_processes_deliver_300_slack_check_ins_once_and_whole(
    content: Content,
) -> None:
    """Three `achtje`-like sender processes on one PostgreSQL database, one fake Slack that
    loses answers, throttles and fails: still every check-in once and whole."""
    assert POSTGRES_URL
    await reset_postgres(POSTGRES_URL)
    engine, sessions = await db.connect(POSTGRES_URL)
    fake = FakeSlack(chaos=Chaos(drop=0.03, throttle=0.10, error=0.03))
    await fake.start()
    try:
        assert await due_checkins(sessions, content, 300) == 300
        workers = [await run_worker(POSTGRES_URL, fake.api_url, NOW) for _ in range(3)]
        for worker in workers:
            _, errors = await asyncio.wait_for(worker.communicate(), timeout=300)
            assert worker.returncode == 0, errors.decode()[-2000:]
        assert fake.chaos is not None and fake.chaos.counts["drop"] >= 5
        intro = content.text("sched_checkin_invite", "nl", count=6)
        wrong = {n: texts for n, texts in checkins_seen(fake, 300)
                 if len(texts) != 2 or texts[0] != intro or texts[1] == intro}
        assert wrong == {}
        assert await statuses(sessions) == {"sent": 300}
    finally:
        await fake.stop()
        await engine.dispose()

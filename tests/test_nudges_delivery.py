"""A nudge round through the outbox and the sender to a fake platform: the private
invitations with mentions, one channel message per round, and a member whose private chat
turns out unreachable only at send time, who is then invited in the channel."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.content import Content
from bot.messages import mention_mark
from bot.schedule.holidays import load_holidays
from bot.schedule.rules import Changes, configure
from bot.store.models import ChannelBinding, Member, Partnership, School
from bot.store.schedule import OutboxMessage
from scheduler.outbox import Claimed
from scheduler.planner import plan_due
from scheduler.runner import ScheduleRunner
from tests.scheduler_fakes import FakePlatform, HttpAdapter, add_members, fake_platform, utc

HOLIDAYS = load_holidays()
NOW = utc(2026, 11, 24, 14, 30)  # Tuesday 15:30 in Amsterdam: the nudge slot
Sessions = async_sessionmaker[Any]


async def a_round_planned(sessions: Sessions, content: Content,
                          **vmbo_extra: Any) -> dict[str, int]:
    """Two vmbo members (user-1, user-2) and two mbo members on the fake platform, its
    channel bound, and one nudge round in the outbox; member ids by user."""
    async with sessions() as session, session.begin():
        partnership = Partnership(name="Zorg", region="midden", created_at=utc(2026, 9, 1))
        partnership.schools = [School(name="De Brug", type="vmbo"),
                               School(name="Kompas", type="mbo")]
        session.add(partnership)
        await session.flush()
        session.add(ChannelBinding(partnership_id=partnership.id, platform="fake",
                                   channel_ref="chan-1", created_at=utc(2026, 9, 1)))
        vmbo, mbo = (school.id for school in partnership.schools)
        members = [*add_members(session, partnership.id, 2, school_id=vmbo, **vmbo_extra),
                   *add_members(session, partnership.id, 2, start=3, school_id=mbo)]
        await configure(session, HOLIDAYS, partnership,
                        Changes(first=date(2026, 11, 17), checkins=False, summaries=False),
                        NOW.replace(hour=13))
        await session.flush()
        ids = {m.user_ref: m.id for m in members}
    await plan_due(sessions, content, HOLIDAYS, NOW)
    return ids


async def send_all(sessions: Sessions, content: Content, **fake: Any) -> tuple[
        FakePlatform, ScheduleRunner]:
    """Drain the outbox through the service's sender to a fake platform."""
    async with fake_platform(**fake) as platform:
        adapter = HttpAdapter(platform.url)
        await adapter.start()
        try:
            runner = ScheduleRunner(sessions, content, HOLIDAYS, {"fake": adapter},
                                    clock=lambda: NOW)
            await runner.sender.drain(asyncio.sleep)
        finally:
            await adapter.stop()
    return platform, runner


async def test_an_unreachable_private_chat_at_send_time_sends_the_invitation_to_the_channel(
    sessions: Sessions, content: Content,
) -> None:
    ids = await a_round_planned(sessions, content)
    fake, runner = await send_all(sessions, content, gone={"user-2"})

    got = {(r.chat, r.direct): r for r in fake.received}
    assert sorted(got) == [("chan-1", False), ("user-1", True), ("user-3", True),
                           ("user-4", True)]
    # The round's note and, as a message of its own, user-2's invitation in the channel.
    in_channel = [r.replies for r in fake.received if r.chat == "chan-1"]
    assert len(in_channel) == 2
    note, invitation = in_channel
    assert note[0]["text"] == content.text("nudge_channel", "nl", groups=2)
    assert invitation[0]["text"].startswith(f"{mention_mark(0)}, ")
    assert invitation[0]["mentions"][0] == {"user": "user-2", "name": "Lid 2"}
    partner = invitation[0]["mentions"][1]
    assert partner["user"] in ("user-3", "user-4")
    # The partner's own private message names user-2 with a mention as well.
    to_partner = got[(partner["user"], True)].replies[0]
    assert {"user": "user-2", "name": "Lid 2"} in to_partner["mentions"]

    async with sessions() as session:
        member = await session.get(Member, ids["user-2"])
        assert member is not None and member.unreachable_at == NOW
        rows = {r.recipient: r for r in await session.scalars(select(OutboxMessage))}
    assert rows[f"member:{ids['user-2']}"].status == "failed"
    fallback = rows[f"channel:fake:chan-1:member:{ids['user-2']}"]
    assert (fallback.status, fallback.direct, fallback.member_id) == ("sent", False,
                                                                      ids["user-2"])

    # Settling the same failure again (a retried tick, a second process) adds nothing.
    failed = rows[f"member:{ids['user-2']}"]
    claimed = Claimed(failed.id, failed.kind, failed.platform, failed.target, True,
                      failed.payload, failed.member_id, failed.attempts)
    when_unreachable = runner.sender.when_unreachable
    assert when_unreachable is not None
    async with sessions() as session, session.begin():
        await when_unreachable(session, claimed, NOW)
    async with sessions() as session:
        assert len(list(await session.scalars(select(OutboxMessage)))) == len(rows)


async def test_people_known_to_be_unreachable_are_invited_in_the_thread_of_one_post(
    sessions: Sessions, content: Content,
) -> None:
    await a_round_planned(sessions, content, unreachable_at=NOW)
    fake, _ = await send_all(sessions, content)
    posts = [r for r in fake.received if not r.direct]
    assert len(posts) == 1  # one message about the round, the rest in its thread
    note, *thread = posts[0].replies
    assert note["text"] == content.text("nudge_channel", "nl", groups=2)
    assert note["thread_of"] is None
    assert [r["thread_of"] for r in thread] == ["@first", "@first"]
    assert sorted(r["mentions"][0]["user"] for r in thread) == ["user-1", "user-2"]
    assert sorted(r.chat for r in fake.received if r.direct) == ["user-3", "user-4"]

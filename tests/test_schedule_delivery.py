"""A month of ticks through the planner and the sender: what members really receive, and
when, around weekends, the Christmas holiday, a pause and the monthly summary."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.content import Content
from bot.messages import Invitation, Reply, Scale, Text
from bot.schedule.holidays import load_holidays
from bot.schedule.rules import Changes, configure
from bot.store.models import Partnership
from scheduler.planner import plan_due
from scheduler.sender import Sender
from tests.scheduler_fakes import add_members, utc

HOLIDAYS = load_holidays()
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


class Recorder:
    """An adapter that notes who got what at which local time."""

    platform = "fake"

    def __init__(self, clock: Any) -> None:
        self.clock = clock
        self.got: list[tuple[str, str, str]] = []

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def send(self, chat: str, replies: Sequence[Reply]) -> None:
        await self.send_direct(chat, replies)

    async def send_direct(self, user: str, replies: Sequence[Reply]) -> None:
        first = replies[0]
        assert isinstance(first, Text | Invitation)  # a check-in opens with its Later button
        kind = ("checkin" if first.text.startswith("Hoi!") else
                "reminder" if first.text.startswith("Nog even") else "summary")
        if kind != "summary":
            assert isinstance(replies[1], Scale)
        when = self.clock().astimezone(AMSTERDAM).strftime("%a %d-%m %H:%M")
        self.got.append((when, kind, user))


async def test_a_month_of_sends_respects_weekends_holidays_and_pauses(
    sessions: async_sessionmaker[Any], content: Content
) -> None:
    async with sessions() as session, session.begin():
        partnership = Partnership(name="Zorg Midden", region="midden",
                                  created_at=utc(2026, 9, 1))
        session.add(partnership)
        await session.flush()
        add_members(session, partnership.id, 2)
        add_members(session, partnership.id, 1, start=3, paused_until=date(2027, 1, 10))
        add_members(session, partnership.id, 1, start=4, role="leader")
        await configure(session, HOLIDAYS, partnership, Changes(first=date(2026, 12, 15)),
                        utc(2026, 12, 14))
    now = utc(2026, 12, 14)

    def clock() -> datetime:
        return now

    recorder = Recorder(clock)
    sender = Sender(sessions, {"fake": recorder}, clock=clock)
    ticks = [utc(2026, 12, 14, h, 30) + timedelta(days=d)  # a few ticks a day, UTC
             for d in range(32) for h in (0, 7, 11, 14, 17, 21)]
    for now in ticks:
        await plan_due(sessions, content, HOLIDAYS, now)
        await sender.send_due()

    by_moment: dict[tuple[str, str], list[str]] = {}
    for when, kind, user in recorder.got:
        by_moment.setdefault((when, kind), []).append(user)
    assert by_moment == {
        ("Tue 15-12 15:30", "checkin"): ["user-1", "user-2", "user-4"],  # user-3 paused
        ("Wed 16-12 15:30", "reminder"): ["user-1", "user-2", "user-4"],
        # 29 December is in the Christmas holiday: moved to the first school day after it.
        ("Mon 04-01 08:30", "summary"): ["user-4"],  # the leader; 1 January moved too
        ("Mon 04-01 15:30", "checkin"): ["user-1", "user-2", "user-4"],
        ("Tue 05-01 15:30", "reminder"): ["user-1", "user-2", "user-4"],
        ("Tue 12-01 15:30", "checkin"): ["user-1", "user-2", "user-3", "user-4"],  # pause over
        ("Wed 13-01 15:30", "reminder"): ["user-1", "user-2", "user-3", "user-4"],
    }

"""A demo partnership, and a simulated stretch of months of members answering check-ins.

The simulation drives the real engine with the real store: members are onboarded and
answer by pressing the buttons the engine offers, on a clock that jumps from round to
round. It shows a newcomer what achtje asks and what a project leader gets back.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import rounds
from bot.content import Content
from bot.engine import Engine
from bot.messages import Choice, FreeText, Incoming, Reply, Scale
from bot.months import month_bounds, shift_month
from bot.store.models import ChannelBinding, CheckInRound, Partnership, School
from bot.summary import load_summary_rules, render_text
from bot.summary.frozen import published_summary

DEMO_PARTNERSHIP = "Demo Zorg & Welzijn"
DEMO_SCHOOLS = (("Vmbo De Brug", "vmbo"), ("Mbo College Kompas", "mbo"))
# How a simulated partnership scores each topic at the start, and how it moves per month.
_PROFILE = {"ambition": (3.9, 0.0), "interests": (3.0, 0.05), "relations": (2.5, 0.2),
            "organisation": (3.3, -0.05), "process": (3.4, 0.0), "content": (3.6, 0.05),
            "anchoring": (2.6, 0.1)}
_TAKES_PART = 0.8
_DONT_KNOW = 0.05


async def create_demo_partnership(
    session: AsyncSession, now: datetime, platform: str = "console", chat: str = "console"
) -> Partnership:
    """Two schools, bound to one chat, so the console (or a test) can start at once."""
    partnership = Partnership(name=DEMO_PARTNERSHIP, sector="Zorg & Welzijn", region="midden",
                              created_at=now)
    partnership.schools = [School(name=name, type=kind) for name, kind in DEMO_SCHOOLS]
    session.add(partnership)
    await session.flush()
    session.add(ChannelBinding(partnership_id=partnership.id, platform=platform,
                               channel_ref=chat, created_at=now))
    return partnership


@dataclass
class _SimulatedMember:
    user: str
    school: int  # index into DEMO_SCHOOLS
    level: str
    leaning: float


def _members(count: int, rng: random.Random) -> list[_SimulatedMember]:
    levels = ["board", "management", *["teachers"] * 4]
    return [
        _SimulatedMember(f"demo-{n + 1}", n % 2, levels[(n // 2) % len(levels)],
                         rng.gauss(0, 0.4))
        for n in range(count)
    ]


def round_dates(start: date, months: int, timezone: str) -> list[datetime]:
    """Fortnightly Tuesdays at 15:30 local time, from `start`, of rounds that close within
    `months` months."""
    zone = ZoneInfo(timezone)
    day = start + timedelta(days=(1 - start.weekday()) % 7)
    end = shift_month(start, months)
    dates = []
    while day + rounds.ROUND_DURATION < end:
        dates.append(datetime.combine(day, time(15, 30), zone).astimezone(UTC))
        day += timedelta(days=14)
    return dates


class Simulation:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], content: Content,
                 seed: int) -> None:
        self.now = datetime(2000, 1, 1, tzinfo=UTC)
        self.sessions = sessions
        self.content = content
        self.engine = Engine(sessions, content, clock=lambda: self.now, enrol_strangers=True)
        self.rng = random.Random(seed)

    async def say(self, member: _SimulatedMember, *, text: str | None = None,
                  action: str | None = None) -> list[Reply]:
        outcome = await self.engine.handle(Incoming(
            platform="demo", user=member.user, chat="demo", direct=True, text=text,
            action=action, display_name=member.user,
        ))
        return outcome.replies

    async def onboard(self, member: _SimulatedMember) -> None:
        replies = await self.say(member, text="hoi")
        wanted = (DEMO_SCHOOLS[member.school][0],
                  self.content.level_name(member.level, "nl"), "Nederlands")
        for label in wanted:
            choice = next(r for r in replies if isinstance(r, Choice))
            option = next(o for o in choice.options if o.label == label)
            replies = await self.say(member, action=option.value)

    def score(self, member: _SimulatedMember, statement_id: str, months_in: int) -> int | None:
        topic = self.content.topic_of(statement_id)
        start, drift = _PROFILE[topic]
        level_effect = {"board": 0.4, "management": 0.1, "teachers": -0.3}[member.level]
        mean = start + drift * months_in + member.leaning + level_effect
        if self.rng.random() < _DONT_KNOW:
            return None
        return max(1, min(5, round(self.rng.gauss(mean, 0.8))))

    async def check_in(self, member: _SimulatedMember, months_in: int) -> None:
        replies = await self.say(member, text="checkin")
        while True:
            scale = next((r for r in replies if isinstance(r, Scale)), None)
            free = next((r for r in replies if isinstance(r, FreeText)), None)
            if scale is not None:
                statement_id = scale.options[0].value.split(":")[2]
                score = self.score(member, statement_id, months_in)
                replies = await self.say(member, action=scale.options[(score or 6) - 1].value)
            elif free is not None and free.skip is not None:
                replies = await self.say(member, action=free.skip.value)
            else:
                return


async def simulate(
    sessions: async_sessionmaker[AsyncSession],
    content: Content,
    *,
    months: int,
    members: int,
    start: date,
    seed: int,
    lang: str,
    write: Callable[[str], None],
) -> None:
    """Create a demo partnership, let `members` people answer for `months`, print it."""
    sim = Simulation(sessions, content, seed)
    sim.now = datetime.combine(start, time(9), UTC)
    async with sessions() as session, session.begin():
        partnership = await create_demo_partnership(session, sim.now, "demo", "demo")
    people = _members(members, sim.rng)
    for member in people:
        await sim.onboard(member)
    by_month: dict[date, list[datetime]] = {}
    for moment in round_dates(start, months, partnership.timezone):
        # A round counts in the month it closes in (docs/summary.md).
        closes = moment + rounds.ROUND_DURATION
        local = closes.astimezone(ZoneInfo(partnership.timezone)).date()
        by_month.setdefault(local.replace(day=1), []).append(moment)
    rules = load_summary_rules(content)
    for months_in, (month, moments) in enumerate(sorted(by_month.items())):
        opened: list[CheckInRound] = []
        for moment in moments:
            sim.now = moment
            async with sessions() as session, session.begin():
                opened.append(await rounds.open_round(session, content, partnership.id, moment))
            for member in people:
                if sim.rng.random() < _TAKES_PART:
                    await sim.check_in(member, months_in)
        for round_ in opened:
            statements = " | ".join(content.statement(s).text.get(lang)
                                    for s in round_.statement_ids)
            write(content.text("overview_asked", lang, number=round_.number,
                               date=content.day(round_.opens_at.date(), lang),
                               statements=statements))
        async with sessions() as session, session.begin():
            # Read as a leader would once the month is over: its frozen result.
            found = await session.get(Partnership, partnership.id)
            assert found is not None
            summary = await published_summary(session, content, found, month,
                                              now=month_bounds(month, found.timezone)[1])
        if summary is not None:
            write(render_text(summary, content, rules, lang))
        write("")


"""The promise, for any partnership: once a month is over, what it published never changes.

Random people answer random scores and texts in September, October and November; after
each month closes, random things happen the way they do in practice (a member erases
themselves in chat, a leader removes someone with `leden`, `member import` changes a
school or level, retention runs with random terms, someone joins). Before each one the
test looks at what every closed month would publish now, without keeping it (the
transaction is rolled back); after it, every closed month must publish exactly that. So
an action that changed rows before freezing the months fails here, not only a reader that
recomputes. The one change allowed: when the open texts' term ends, a month's texts go,
all of them at once.
"""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.memory import MemoryChat
from bot.content import Content
from bot.domain import LEVEL_IDS
from bot.engine import Engine
from bot.months import shift_month
from bot.partnerships_cli import import_members
from bot.privacy import apply_retention
from bot.store.models import Member, Partnership
from bot.store.privacy import RetentionSettings
from bot.summary import load_summary_rules
from bot.summary.export import summary_document
from bot.summary.frozen import published_summary
from tests.conftest import Clock
from tests.summary_fakes import NOV, OCT, SEP, Partners

Sessions = async_sessionmaker[Any]
STATEMENTS = ["ambition_1", "relations_1", "content_1"]
DEC = date(2026, 12, 1)
SCHOOLS = {"vmbo": "Vmbo Noorderlicht", "mbo": "Mbo Vakcollege"}
# After September, October and November closed: when the actions of each step happen.
STEPS = (datetime(2026, 10, 20, 9, tzinfo=UTC), datetime(2026, 11, 20, 9, tzinfo=UTC),
         datetime(2026, 12, 20, 9, tzinfo=UTC))

person = st.tuples(st.sampled_from(["vmbo", "mbo"]), st.sampled_from(LEVEL_IDS))
score = st.sampled_from([1, 2, 3, 4, 5, 1, 2, "dk", None])
action = st.one_of(
    st.tuples(st.just("erase"), st.integers(0, 30)),
    st.tuples(st.just("remove"), st.integers(0, 30)),
    st.tuples(st.just("import"), st.integers(0, 30), person),
    st.tuples(st.just("retention"), st.integers(1, 3), st.integers(0, 3)),
    st.tuples(st.just("join"), person),
)


def published(document: dict[str, Any]) -> dict[str, Any]:
    """A month's JSON without its open texts (those go when their term ends)."""
    stripped = copy.deepcopy(document)
    for topic in (*stripped["conditions"], *stripped["boards"]):
        for result in topic["statement_results"]:
            result["open_answers"] = []
    return stripped


def texts_of(document: dict[str, Any]) -> list[list[str]]:
    return [[text for result in topic["statement_results"] for text in result["open_answers"]]
            for topic in (*document["conditions"], *document["boards"])]


class Run:
    """One random partnership and the months it published."""

    def __init__(self, sessions: Sessions, content: Content, partners: Partners,
                 leader: str, clock: Clock) -> None:
        self.sessions, self.content, self.partners = sessions, content, partners
        self.leader, self.clock = leader, clock
        self.engine = Engine(sessions, content, clock, enrol_strangers=True)
        self.rules = load_summary_rules(content)
        self.seen: dict[date, dict[str, Any]] = {}

    async def months(self, *, keep: bool) -> dict[date, dict[str, Any]]:
        """What each closed month publishes now; rolled back unless `keep`."""
        found: dict[date, dict[str, Any]] = {}
        async with self.sessions() as session:
            await session.begin()
            partnership = await session.get(Partnership, self.partners.partnership.id)
            assert partnership is not None
            month = SEP.replace(day=1)
            while month < self.clock.now.date().replace(day=1):
                summary = await published_summary(session, self.content, partnership, month,
                                                  now=self.clock.now)
                assert summary is not None
                found[month] = summary_document(summary, self.content, self.rules)
                month = shift_month(month, 1)
            await (session.commit() if keep else session.rollback())
        return found

    async def members(self) -> list[Member]:
        async with self.sessions() as session:
            partnership_id = self.partners.partnership.id
            return [m for m in await session.run_sync(lambda s: s.query(Member).filter_by(
                partnership_id=partnership_id, role="member").order_by(Member.id).all())]

    async def act(self, step: tuple[Any, ...], scores: list[Any]) -> None:
        kind, members = step[0], await self.members()
        if kind in ("erase", "remove", "import") and not members:
            return
        if kind == "erase":
            user = members[step[1] % len(members)].user_ref
            chat = MemoryChat(self.engine, user=user, chat=f"dm-{user}")
            await chat.say("privacy")
            await chat.press_value("avg:erase")
            await chat.press_value("avg:erase_yes")
        elif kind == "remove":
            target = members[step[1] % len(members)].id
            chat = MemoryChat(self.engine, user=self.leader, chat=f"dm-{self.leader}")
            await chat.say("leden")
            await chat.press_value(f"lm:{target}")
            await chat.press_value(f"lm:{target}:yes")
        elif kind == "import":
            target, (side, level) = members[step[1] % len(members)], step[2]
            row = {"partnership": str(self.partners.partnership.id), "platform": "test",
                   "user": target.user_ref, "school": SCHOOLS[side], "level": level}
            async with self.sessions() as session, session.begin():
                await import_members(session, self.content, [row], self.clock.now)
        elif kind == "retention":
            async with self.sessions() as session, session.begin():
                await session.merge(RetentionSettings(
                    partnership_id=self.partners.partnership.id, answer_months=step[1],
                    open_text_months=step[2], updated_at=self.clock.now))
            await apply_retention(self.sessions, self.clock.now, self.content)
        else:
            side, level = step[1]
            [joined] = await self.partners.members(side, level, 1, onboarded=self.clock.now)
            for day in (DEC,):  # the rounds still to come
                round_id = await self.partners.round(day, STATEMENTS[:2])
                await self.partners.answer(round_id, "ambition_1", [joined], scores[:1],
                                           answered_at=datetime.combine(day, time(12), UTC))

    def check(self, now: dict[date, dict[str, Any]]) -> None:
        for month, document in now.items():
            first = self.seen.setdefault(month, document)
            assert published(document) == published(first), month
            texts = texts_of(document)
            assert texts == texts_of(first) or not any(texts), month


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
async def test_no_closed_month_ever_publishes_something_else(
    sessions: Sessions, content: Content, data: st.DataObject
) -> None:
    people = data.draw(st.lists(person, min_size=3, max_size=8), label="people")
    partners = await Partners.create(sessions)
    ids = [(await partners.members(side, level, 1))[0] for side, level in people]
    [leader_id] = await partners.members("mbo", "management", 1)
    async with sessions() as session, session.begin():
        leader = await session.get(Member, leader_id)
        assert leader is not None
        leader.role = "leader"
        leader_user = leader.user_ref
    for day in (SEP, OCT, NOV, NOV + timedelta(weeks=2)):
        round_id = await partners.round(day, STATEMENTS)
        for statement in STATEMENTS:
            scores = data.draw(st.lists(score, min_size=len(ids), max_size=len(ids)))
            comments = data.draw(st.lists(st.sampled_from([None, None, "Meer tijd", "Samen"]),
                                          min_size=len(ids), max_size=len(ids)))
            await partners.answer(round_id, statement, ids, scores, comments,
                                  datetime.combine(day, time(12), UTC))
    clock = Clock(STEPS[0])
    run = Run(sessions, content, partners, leader_user, clock)
    for now in STEPS:
        clock.now = now
        for step in data.draw(st.lists(action, min_size=1, max_size=3), label="actions"):
            before = await run.months(keep=False)
            run.check(before)
            await run.act(step, data.draw(st.lists(score, min_size=1, max_size=1)))
            run.check(await run.months(keep=True))

"""Coffee ideas by level: a pair gets an idea that suits both of them (two managers never
get a classroom idea, two teachers do get teaching ideas), as the invitation says it."""

from __future__ import annotations

import itertools
import random
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.content import Content, Idea
from bot.demo import create_demo_partnership
from bot.domain import LEVEL_IDS
from bot.messages import Text
from bot.nudges import compose_round
from bot.nudges.ideas import choose_idea, fitting_ideas, suiting_ideas
from bot.nudges.records import RECENT_IDEAS
from bot.store.models import Partnership
from tests.conftest import Clock
from tests.nudge_helpers import MBO, VMBO, add_member, configure, plan_round

TEACHING = {"share_favourite_material", "sit_in_practical_lesson", "guest_lesson_plan",
            "voice_message", "ask_for_advice"}


def idea_in(content: Content, text: str, lang: str) -> Idea:
    """The one idea whose words (in `lang`) the invitation holds."""
    [idea] = [i for i in content.ideas if i.text.get(lang) in text]
    return idea


async def invitations(sessions: async_sessionmaker[Any], content: Content, clock: Clock,
                      partnership: Partnership, rounds: int) -> dict[str, list[str]]:
    """Plan `rounds` rounds a day apart; each person's invitation texts, oldest first."""
    received: dict[str, list[str]] = {}
    for day in range(rounds):
        for message in await plan_round(sessions, content, partnership.id,
                                        clock.now + timedelta(days=day)):
            if message.direct:
                [reply] = message.replies
                assert isinstance(reply, Text)
                received.setdefault(message.target, []).append(reply.text)
    return received


async def test_two_managers_get_ideas_for_managers_and_never_a_classroom_idea(
    sessions: async_sessionmaker[Any], content: Content, clock: Clock, partnership: Partnership,
) -> None:
    await add_member(sessions, partnership, "anna", VMBO, clock.now, level="management")
    await add_member(sessions, partnership, "bram", MBO, clock.now, level="management",
                     language="en")
    await configure(sessions, partnership.id, clock.now, max_minutes=15)
    suiting = suiting_ideas(fitting_ideas(content.ideas, False, 15), {"management"})
    assert len(suiting) <= RECENT_IDEAS  # so none may come back in these rounds
    received = await invitations(sessions, content, clock, partnership, len(suiting))
    given_nl = [idea_in(content, text, "nl") for text in received["anna"]]
    given_en = [idea_in(content, text, "en") for text in received["bram"]]
    assert given_nl == given_en  # one idea for the pair, each in their own language
    assert all(idea.suits("management") for idea in given_nl)
    assert not {idea.id for idea in given_nl} & TEACHING
    assert not any("lesmateriaal" in text or "je les" in text for text in received["anna"])
    # Every idea that suits them comes once, the ones meant for managers among them.
    assert sorted(idea.id for idea in given_nl) == sorted(idea.id for idea in suiting)
    assert {"share_a_team_win", "board_expectations"} <= {idea.id for idea in given_nl}


async def test_two_teachers_get_teaching_ideas_and_no_ideas_meant_for_managers(
    sessions: async_sessionmaker[Any], content: Content, clock: Clock, partnership: Partnership,
) -> None:
    await add_member(sessions, partnership, "cas", VMBO, clock.now)
    await add_member(sessions, partnership, "dirk", MBO, clock.now)
    await configure(sessions, partnership.id, clock.now, max_minutes=15)
    suiting = suiting_ideas(fitting_ideas(content.ideas, False, 15), {"teachers"})
    assert len(suiting) <= RECENT_IDEAS
    received = await invitations(sessions, content, clock, partnership, len(suiting))
    given = [idea_in(content, text, "nl") for text in received["cas"]]
    assert all(idea.suits("teachers") and idea.minutes <= 15 for idea in given)
    assert sorted(idea.id for idea in given) == sorted(idea.id for idea in suiting)
    assert {"share_favourite_material", "voice_message", "ask_for_advice"} <= {
        idea.id for idea in given}
    assert not {"share_a_team_win", "board_expectations"} & {idea.id for idea in given}


async def test_a_manager_and_a_teacher_get_ideas_for_anyone(
    sessions: async_sessionmaker[Any], content: Content, clock: Clock, partnership: Partnership,
) -> None:
    await add_member(sessions, partnership, "eva", VMBO, clock.now, level="management")
    await add_member(sessions, partnership, "fenna", MBO, clock.now)
    received = await invitations(sessions, content, clock, partnership, 6)
    assert all(idea_in(content, text, "nl").levels == "any" for text in received["eva"])


def test_every_setting_has_an_idea_for_every_group_of_levels(content: Content) -> None:
    for same_building, minutes in itertools.product((True, False), (5, 10, 15, 30, 60, 240)):
        fitting = fitting_ideas(content.ideas, same_building, minutes)
        for size in (2, 3):
            for levels in itertools.combinations_with_replacement(LEVEL_IDS, size):
                suiting = suiting_ideas(fitting, set(levels))
                assert suiting, (same_building, minutes, levels)
                assert all(idea.suits(level) for idea in suiting for level in levels)


level = st.sampled_from([*LEVEL_IDS, None, ""])
ideas = st.lists(
    st.builds(lambda n, levels, minutes: Idea(
        id=f"idea{n}", text={"nl": f"Idee {n}.", "en": f"Idea {n}."}, minutes=minutes,
        setting="any", levels=levels),
        st.integers(0, 10**6),
        st.one_of(st.just("any"), st.lists(st.sampled_from(LEVEL_IDS), min_size=1,
                                            max_size=3, unique=True)),
        st.integers(5, 60)),
    min_size=1, max_size=12, unique_by=lambda idea: idea.id)


@given(fitting=ideas, group=st.lists(level, min_size=2, max_size=3), data=st.data(),
       seed=st.integers(0, 2**31 - 1))
def test_a_group_never_gets_an_idea_that_misses_a_level_when_one_fits_everyone(
    fitting: list[Idea], group: list[str | None], data: st.DataObject, seed: int,
) -> None:
    ids = [idea.id for idea in fitting]
    recent = data.draw(st.lists(st.sampled_from(ids), max_size=20), label="recent")
    counts = data.draw(st.dictionaries(st.sampled_from(ids), st.integers(0, 5)), label="round")
    chosen = choose_idea(suiting_ideas(fitting, set(group)), recent, random.Random(seed),
                         counts)
    assert chosen in fitting
    if any(all(idea.suits(member) for member in group) for idea in fitting):
        assert all(chosen.suits(member) for member in group)


_CHATS = itertools.count()


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(people=st.lists(st.tuples(st.sampled_from([VMBO, MBO]), st.sampled_from(LEVEL_IDS)),
                       min_size=2, max_size=9),
       same_building=st.booleans(), minutes=st.sampled_from([5, 10, 20, 45, 240]),
       mix=st.booleans())
async def test_no_planned_pair_gets_an_idea_that_does_not_suit_its_levels(
    sessions: async_sessionmaker[Any], content: Content, clock: Clock,
    people: list[tuple[int, str]], same_building: bool, minutes: int, mix: bool,
) -> None:
    async with sessions() as session, session.begin():
        partnership = await create_demo_partnership(session, clock.now, "test",
                                                    f"ideas-{next(_CHATS)}")
    for n, (school, level_id) in enumerate(people):
        await add_member(sessions, partnership, f"p{partnership.id}-{n}", school, clock.now,
                         level=level_id)
    await configure(sessions, partnership.id, clock.now, same_building=same_building,
                    max_minutes=minutes, mix_levels=mix)
    for day in range(4):
        async with sessions() as session:
            found = await session.get(Partnership, partnership.id)
            assert found is not None
            plan = await compose_round(session, content, found, clock.now + timedelta(days=day))
        fitting = fitting_ideas(content.ideas, same_building, minutes)
        for group in plan.groups:
            levels = [member.level for member in group.members]
            assert group.idea in fitting
            assert all(group.idea.suits(lvl) for lvl in levels), (group.idea.id, levels)
        await plan_round(sessions, content, partnership.id, clock.now + timedelta(days=day))

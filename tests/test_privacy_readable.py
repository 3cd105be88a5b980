"""The personal export in words, next to the JSON: in the person's language, with months
by name and statement texts, and never anything of another member."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.memory import MemoryChat
from bot.content import Content
from bot.engine import Engine
from bot.messages import Choice, Text
from bot.privacy import export_member
from bot.privacy.readable import readable_export
from bot.store.instruments import (
    PitfallPoll,
    PitfallVote,
    ReflectionAnswer,
    ReflectionSession,
)
from bot.store.matrix import MatrixEntry, MatrixGoal
from bot.store.models import Answer, CheckInRound, Member, Partnership
from bot.store.nudges import NudgeAnswer, NudgeGroup, NudgeGroupMember, NudgeRound
from tests.conftest import Clock, onboard
from tests.privacy_fakes import add_member
from tests.telegram_fakes import ANNA, Bot, Call, running

Sessions = async_sessionmaker[Any]
NOVEMBER = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
MINE = "Meer tijd om samen lessen voor te bereiden"
THEIRS = "Bert vindt de roosters lastig"
MY_NOTE, THEIR_NOTE = "De lijnen zijn kort", "Bert mist de directie"  # reflection notes
ROUNDS = itertools.count(100)  # round numbers, unique in the partnership across examples


async def fill(session: AsyncSession, content: Content, partnership: Partnership,
               me: Member, other: Member) -> None:
    """Answers, a vote, a coffee pairing and a matrix row of `me`, and of `other` too."""
    statement = content.conditions[0].statements[0]
    round_ = CheckInRound(partnership_id=partnership.id, number=1, opens_at=NOVEMBER,
                          closes_at=NOVEMBER + timedelta(days=7),
                          statement_ids=[statement.id])
    nudges = NudgeRound(partnership_id=partnership.id, number=1, seed=1, planned_at=NOVEMBER)
    poll = PitfallPoll(partnership_id=partnership.id, started_at=NOVEMBER)
    reflection = ReflectionSession(partnership_id=partnership.id, number=1,
                                   statement_ids=[statement.id], opened_at=NOVEMBER)
    goal = MatrixGoal(partnership_id=partnership.id, title="Meeloopdagen",
                      created_at=NOVEMBER, updated_at=NOVEMBER)
    session.add_all([round_, nudges, poll, reflection, goal])
    await session.flush()
    group = NudgeGroup(round_id=nudges.id, idea_id=content.ideas[0].id, cross_school=True)
    session.add(group)
    await session.flush()
    for who, score, comment, note in ((me, 4, MINE, MY_NOTE), (other, 1, THEIRS, THEIR_NOTE)):
        session.add_all([
            Answer(round_id=round_.id, member_id=who.id, statement_id=statement.id,
                   status="scored", score=score, comment=comment, answered_at=NOVEMBER),
            ReflectionAnswer(session_id=reflection.id, member_id=who.id,
                             condition="ambition", statement_id=statement.id,
                             status="dont_know", score=None, answered_at=NOVEMBER,
                             note=note),
            PitfallVote(poll_id=poll.id, member_id=who.id, pitfall_id=content.pitfalls[0].id,
                        voted_at=NOVEMBER),
            NudgeGroupMember(group_id=group.id, member_id=who.id),
            NudgeAnswer(group_id=group.id, member_id=who.id, answer="met",
                        answered_at=NOVEMBER),
        ])
    session.add(MatrixEntry(partnership_id=partnership.id, goal_id=goal.id,
                            step_id="activities", text="Gastlessen", updated_by=me.id,
                            updated_at=NOVEMBER))
    session.add(MatrixEntry(partnership_id=partnership.id, goal_id=goal.id,
                            step_id="progress", text="Bert zijn enquête", updated_by=other.id,
                            updated_at=NOVEMBER))


async def me_and_bert(sessions: Sessions, content: Content, partnership: Partnership,
                      user: str, now: datetime) -> int:
    async with sessions() as session, session.begin():
        me = await session.scalar(select(Member).where(Member.user_ref == user))
        assert me is not None
        bert = await add_member(session, partnership, "bert-4410", now)
        bert.display_name = "Bert Jansen"
        await fill(session, content, partnership, me, bert)
        return me.id


async def test_the_export_reads_in_dutch_with_months_and_statements_and_json_behind_a_button(
    engine: Engine, sessions: Sessions, partnership: Partnership, clock: Clock,
    content: Content,
) -> None:
    chat = MemoryChat(engine, user="zeynep-7731", chat="dm-zeynep-7731")
    await onboard(chat)
    me = await me_and_bert(sessions, content, partnership, "zeynep-7731", clock.now)
    await chat.say("privacy")
    intro, *pieces, json_button = await chat.press("Mijn gegevens bekijken")
    assert isinstance(intro, Text) and "in gewone woorden" in intro.text
    assert "(1 bericht)" in intro.text and len(pieces) == 1
    assert isinstance(json_button, Choice)
    assert [o.label for o in json_button.options] == ["Ook als JSON"]
    text = pieces[0].text  # type: ignore[attr-defined]
    statement = content.conditions[0].statements[0].text.nl
    lines = text.splitlines()
    assert lines[0] == "Wat ik over je bewaar · Demo Zorg & Welzijn"
    assert "- naam: zeynep-7731" in lines and "- rol: lid" in lines
    assert "- taal: Nederlands" in lines and "- e-mailadres: geen" in lines
    assert f"- november 2026: '{statement}' - jouw antwoord: 4 (mee eens)" in lines
    assert f"  je schreef erbij: {MINE}" in lines
    assert f"- 10 november 2026: '{statement}' - jouw antwoord: weet ik niet" in lines
    assert f"  je schreef erbij: {MY_NOTE}" in lines  # what they wrote in the reflection
    assert f"- 10 november 2026: {content.pitfalls[0].name.nl}" in lines
    assert f"- 10 november 2026: {content.ideas[0].text.nl} - jullie hebben elkaar " \
           "gesproken" in lines
    assert "- impactmatrix, Activiteiten: Gastlessen" in lines
    for theirs in (THEIRS, THEIR_NOTE, "Bert", "1 (helemaal mee oneens)", "enquête"):
        assert theirs not in text
    assert "{" not in text and "2026-11" not in text

    intro, *parts = await chat.press("Ook als JSON")
    assert isinstance(intro, Text) and "als JSON" in intro.text
    shown = json.loads("\n".join(p.text for p in parts))  # type: ignore[attr-defined]
    async with sessions() as session:
        assert shown == await export_member(session, me)


async def test_the_export_reads_in_english(
    engine: Engine, sessions: Sessions, partnership: Partnership, clock: Clock,
    content: Content,
) -> None:
    chat = MemoryChat(engine, user="eve-2291", chat="dm-eve-2291")
    await onboard(chat, language="lang:en")
    await me_and_bert(sessions, content, partnership, "eve-2291", clock.now)
    await chat.say("privacy")
    intro, piece, _ = await chat.press("Show my data")
    assert isinstance(intro, Text) and "in plain words" in intro.text
    lines = piece.text.splitlines()  # type: ignore[attr-defined]
    statement = content.conditions[0].statements[0].text.en
    assert lines[0] == "What I keep about you · Demo Zorg & Welzijn"
    assert "- language: English" in lines and "- role: member" in lines
    assert f"- November 2026: '{statement}' - your answer: 4 (agree)" in lines
    assert f"- 10 November 2026: {content.ideas[0].text.en} - you met" in lines
    assert "Your coffee pairings (1 pairing; who with is left out, that is someone " \
           "else's data)" in lines
    assert THEIRS not in piece.text  # type: ignore[attr-defined]


COMMENT = st.text(alphabet=st.characters(codec="utf-8", categories=["L", "N", "Zs"]),
                  min_size=6, max_size=40).map(str.strip).filter(lambda s: len(s) >= 6)


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
async def test_the_export_never_holds_another_members_answer(
    sessions: Sessions, partnership: Partnership, content: Content, clock: Clock,
    data: st.DataObject,
) -> None:
    statements = [s.id for s in content.all_statements()]
    mine = data.draw(st.lists(COMMENT, min_size=1, max_size=4, unique=True), label="mine")
    theirs = data.draw(st.lists(COMMENT.filter(lambda c: not any(c in m or m in c
                                                                  for m in mine)),
                                min_size=1, max_size=4, unique=True), label="theirs")
    lang = data.draw(st.sampled_from(["nl", "en"]), label="lang")
    async with sessions() as session, session.begin():
        round_ = CheckInRound(partnership_id=partnership.id, number=next(ROUNDS),
                              opens_at=clock.now,
                              closes_at=clock.now + timedelta(days=7),
                              statement_ids=statements[:4])
        session.add(round_)
        await session.flush()
        me = await add_member(session, partnership, f"me-{round_.id}", clock.now)
        other = await add_member(session, partnership, f"zz-other-{round_.id}", clock.now)
        for who, comments in ((me, mine), (other, theirs)):
            asked = data.draw(st.permutations(statements))
            for index, comment in enumerate(comments):
                session.add(Answer(round_id=round_.id, member_id=who.id,
                                   statement_id=asked[index],
                                   status="scored", score=index % 5 + 1, comment=comment,
                                   answered_at=clock.now))
        await session.flush()
        exported = await export_member(session, me.id)
        assert exported is not None
        text = await readable_export(session, content, exported, lang)
    for comment in mine:
        assert comment in text
    for comment in theirs:
        assert comment not in text
    assert other.user_ref not in text


@pytest.fixture
async def telegram(engine: Engine, sessions: Sessions, partnership: Partnership,
                   clock: Clock) -> AsyncIterator[Bot]:
    async with sessions() as session, session.begin():
        session.add(Member(partnership_id=partnership.id, platform="telegram",
                           user_ref=str(ANNA.id), display_name=ANNA.first_name,
                           school_id=partnership.schools[0].id, level="teachers",
                           language="nl", onboarded_at=clock.now, created_at=clock.now))
    async for bot in running(engine, "polling"):
        yield bot


def sent_texts(calls: list[Call]) -> list[str]:
    return [c.text for c in calls if c.method == "sendMessage"]


async def test_the_readable_export_over_telegram(
    telegram: Bot, sessions: Sessions, partnership: Partnership, clock: Clock,
    content: Content,
) -> None:
    await me_and_bert(sessions, content, partnership, str(ANNA.id), clock.now)
    await telegram.say(ANNA, "/privacy")
    calls = await telegram.press(ANNA, "Mijn gegevens bekijken")
    shown = sent_texts(calls)
    assert shown[0].startswith("Dit is alles wat ik over je bewaar")
    assert shown[1].startswith("Wat ik over je bewaar · Demo Zorg & Welzijn")
    assert MINE in shown[1] and THEIRS not in shown[1] and "Bert" not in shown[1]
    assert all(len(text) <= 4096 for text in shown)
    calls = await telegram.press(ANNA, "Ook als JSON")
    assert '"comment": "' + MINE in "\n".join(sent_texts(calls)[1:]).replace("\n  ", " ")

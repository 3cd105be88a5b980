"""Data rights in chat: what is kept, export, and erasure that leaves no trace."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.memory import MemoryChat
from bot.content import Content
from bot.demo import create_demo_partnership
from bot.engine import Engine
from bot.messages import FIRST, Choice, Image, Text
from bot.outbox import Envelope, enqueue, load_replies
from bot.privacy import erase_member, export_member
from bot.schedule.holidays import load_holidays
from bot.schedule.rules import Changes, configure
from bot.store.instruments import FigureEightLevel, TalkPlateOutcome
from bot.store.matrix import MatrixEntry, MatrixGoal
from bot.store.models import Answer, Member, Partnership
from bot.store.nudges import NudgeGroupMember
from bot.store.schedule import OutboxMessage
from scheduler.planner import plan_due
from tests.conftest import Clock, onboard
from tests.nudge_helpers import MBO, VMBO
from tests.nudge_helpers import add_member as add_nudge_member
from tests.privacy_fakes import OPEN_TEXT, TEAM_TEXT, add_member, fill, traces

Sessions = async_sessionmaker[Any]
USER = "zeynep-7731"  # the memory chat uses the user id as display name too


async def setup_member(engine: Engine, sessions: Sessions, partnership: Partnership,
                       clock: Clock) -> tuple[MemoryChat, int, int]:
    chat = MemoryChat(engine, user=USER, chat=f"dm-{USER}")
    await onboard(chat)
    async with sessions() as session, session.begin():
        member = await session.scalar(select(Member).where(Member.user_ref == USER))
        assert member is not None
        other = await add_member(session, partnership, "bert-4410", clock.now)
        await fill(session, partnership, member, other, clock.now)
        return chat, member.id, other.id


async def test_privacy_says_what_is_kept_with_buttons(chat: MemoryChat, content: Content) -> None:
    await onboard(chat)
    [short] = await chat.say("privacy")
    assert isinstance(short, Choice) and len(short.prompt.splitlines()) == 3
    assert "24 maanden" in short.prompt and "3 maanden" in short.prompt
    assert [o.label for o in short.options] == ["Meer", "Mijn gegevens bekijken",
                                                "Mijn gegevens wissen"]
    [shown] = await chat.press("Meer")
    assert isinstance(shown, Choice)
    assert "24 maanden" in shown.prompt and "3 maanden" in shown.prompt
    for kept in ("naam", "check-ins", "koffie", "stemmen", "geen berichtgeschiedenis"):
        assert kept in shown.prompt
    assert [o.label for o in shown.options] == ["Mijn gegevens bekijken", "Mijn gegevens wissen"]
    assert all(len(o.value.encode()) < 64 for o in (*short.options, *shown.options))


async def test_export_in_chat_is_complete_json_in_short_messages(
    engine: Engine, sessions: Sessions, partnership: Partnership, clock: Clock
) -> None:
    chat, member_id, other_id = await setup_member(engine, sessions, partnership, clock)
    await chat.say("privacy")
    await chat.press("Mijn gegevens bekijken")  # in words first; JSON behind a button
    intro, *pieces = await chat.press("Ook als JSON")
    assert isinstance(intro, Text) and f"({len(pieces)} berichten)" in intro.text
    assert len(pieces) > 1 and all(isinstance(p, Text) and len(p.text) < 3000 for p in pieces)
    shown = json.loads("\n".join(p.text for p in pieces))  # type: ignore[attr-defined]
    assert shown["member"]["user_ref"] == USER and shown["school"] == "Vmbo De Brug"
    tables = shown["tables"]
    assert set(tables) >= {
        "answer", "nudge_group_member", "nudge_answer", "nudge_opt_out",
        "reflection_answer", "pitfall_vote", "reflection_session", "pitfall_poll",
        "figure_eight_check", "matrix_goal", "matrix_entry", "talk_plate", "talk_plate_outcome",
        "outbox"}
    assert len(tables["answer"]) == 4 and tables["answer"][0]["comment"] == OPEN_TEXT
    assert all(row["member_id"] == member_id for row in tables["answer"])
    assert all(row["member_id"] != other_id for row in tables["nudge_group_member"])
    async with sessions() as session:
        assert await export_member(session, member_id) == shown


async def test_erasure_asks_first_and_then_leaves_no_trace(
    engine: Engine, sessions: Sessions, partnership: Partnership, clock: Clock
) -> None:
    chat, member_id, other_id = await setup_member(engine, sessions, partnership, clock)
    await chat.say("privacy")
    [confirm] = await chat.press("Mijn gegevens wissen")
    assert isinstance(confirm, Choice) and "niet ongedaan" in confirm.prompt
    assert await chat.press("Nee, toch niet") == [Text(text="Goed, ik heb niets gewist.")]
    async with sessions() as session:
        assert await session.get(Member, member_id) is not None

    async with sessions() as session:  # the scan does find what is there
        found = await traces(session, member_id, USER)
    assert {place.split(".")[0] for place in found} >= {
        "member", "answer", "nudge_group_member", "pitfall_vote", "matrix_entry", "outbox",
        "figure_eight_level"}
    await chat.say("privacy")
    await chat.press("Mijn gegevens wissen")
    [done] = await chat.press("Ja, wis alles")
    assert isinstance(done, Text) and done.text.startswith("Klaar: je gegevens zijn gewist")
    async with sessions() as session:
        assert await traces(session, member_id, USER) == []
        # The team's work stays, without the name; the other person's data stays whole.
        assert (await session.scalar(select(MatrixGoal.title)), await session.scalar(
            select(MatrixEntry.text)), await session.scalar(
            select(TalkPlateOutcome.text))) == (TEAM_TEXT, TEAM_TEXT, TEAM_TEXT)
        assert await session.scalar(select(FigureEightLevel.names)) == "Piet"
        assert await session.scalar(select(func.count()).select_from(Answer)) == 4
        assert list(await session.scalars(select(NudgeGroupMember.member_id))) == [other_id]


async def test_a_typed_erase_value_without_the_question_erases_nothing(
    engine: Engine, sessions: Sessions, partnership: Partnership, clock: Clock
) -> None:
    chat, member_id, _ = await setup_member(engine, sessions, partnership, clock)
    [stale] = await chat.press_value("avg:erase_yes")
    assert isinstance(stale, Text) and "verlopen" in stale.text
    async with sessions() as session:
        assert await session.get(Member, member_id) is not None


async def test_erasing_in_a_group_answers_privately_and_in_english(
    engine: Engine, sessions: Sessions, partnership: Partnership, clock: Clock
) -> None:
    chat = MemoryChat(engine, user="eve-2291", chat="dm-eve-2291")
    await onboard(chat, language="lang:en")
    group = MemoryChat(engine, user="eve-2291", chat="group-1", direct=False)
    [shown] = await group.say("privacy")
    assert shown.private and isinstance(shown, Choice)
    assert shown.prompt.startswith("I keep your school")
    await group.press("Erase my data")
    [done] = await group.press("Yes, erase everything")
    assert done.private and isinstance(done, Text) and done.text.startswith("Done")
    async with sessions() as session:
        assert await session.scalar(select(Member).where(Member.user_ref == "eve-2291")) is None


async def test_erasing_someone_unknown_or_twice_is_harmless(
    engine: Engine, sessions: Sessions, partnership: Partnership, clock: Clock
) -> None:
    _, member_id, _ = await setup_member(engine, sessions, partnership, clock)
    async with sessions() as session, session.begin():
        report = await erase_member(session, member_id)
        assert report is not None and report.deleted["answer"] == 4
        assert report.anonymised["matrix_entry"] == report.anonymised["matrix_goal"] == 1
    async with sessions() as session, session.begin():
        assert await erase_member(session, member_id) is None
        assert await export_member(session, member_id) is None


async def test_export_and_erasure_cover_the_account_in_every_partnership_not_other_platforms(
    engine: Engine, sessions: Sessions, partnership: Partnership, clock: Clock
) -> None:
    """The same platform account in a second partnership is certainly the same person;
    the same name on another platform might not be, and nothing links the two."""
    chat, member_id, _ = await setup_member(engine, sessions, partnership, clock)
    async with sessions() as session, session.begin():
        other = await create_demo_partnership(session, clock.now, "test", "group-2")
        other.name = "Leerlab Groen"
        second = await add_member(session, other, USER, clock.now)
        elsewhere = Member(partnership_id=partnership.id, platform="slack",
                           user_ref="T1:U7", display_name=USER, created_at=clock.now)
        session.add(elsewhere)
        await session.flush()
        ids = (second.id, elsewhere.id)
    await chat.say("privacy")
    readable = await chat.press("Mijn gegevens bekijken")
    words = "\n".join(r.text for r in readable if isinstance(r, Text))
    assert words.index("Wat ik over je bewaar · Demo Zorg & Welzijn") < words.index(
        "Wat ik over je bewaar · Leerlab Groen") and "T1:U7" not in words
    intro, *pieces = await chat.press("Ook als JSON")
    assert isinstance(intro, Text) and "één document per samenwerking" in intro.text
    shown = "\n".join(p.text for p in pieces if isinstance(p, Text))
    assert f'"id": {member_id}' in shown and f'"id": {ids[0]}' in shown
    assert '"partnership": "Leerlab Groen"' in shown and "T1:U7" not in shown
    assert shown.index(f'"id": {member_id}') < shown.index(f'"id": {ids[0]}')  # hers first

    await chat.say("privacy")
    await chat.press("Mijn gegevens wissen")
    await chat.press("Ja, wis alles")
    async with sessions() as session:
        assert await traces(session, member_id) == await traces(session, ids[0]) == []
        # Her name is left in one place only: the Slack member, which she erases there.
        assert await traces(session, ids[1], USER) == [
            f"member.id = {ids[1]}", f"member.display_name has {USER!r}"]


async def test_erasure_takes_the_person_out_of_a_planned_nudge_round_not_yet_sent(
    sessions: Sessions, content: Content, partnership: Partnership, clock: Clock
) -> None:
    """Queued nudges name partners: the person's partner's invitation, and their own
    invitation in the thread of the channel post (they cannot be reached privately)."""
    people = {}
    for user, school, unreachable in ((USER, VMBO, True), ("cas-5820", VMBO, True),
                                      ("bert-4410", MBO, False), ("dirk-9013", MBO, False)):
        people[user] = await add_nudge_member(sessions, partnership, user, school, clock.now,
                                              unreachable=unreachable)
    async with sessions() as session, session.begin():
        found = await session.get(Partnership, partnership.id)
        assert found is not None
        await configure(session, load_holidays(), found, Changes(first=date(2026, 11, 17)),
                        clock.now - timedelta(days=30))
    assert await plan_due(sessions, content, load_holidays(), clock.now)
    async with sessions() as session:
        assert await traces(session, people[USER], USER)  # the scan finds them queued
    async with sessions() as session, session.begin():
        assert await erase_member(session, people[USER]) is not None
    async with sessions() as session:
        assert await traces(session, people[USER], USER) == []
        rows = list(await session.scalars(select(OutboxMessage)))
    # Cas's invitation stays in the channel post, and Cas's partner's own message.
    [post] = [row for row in rows if not row.direct]
    assert [reply.get("thread_of") for reply in post.payload] == [None, FIRST]
    assert post.payload[1]["mentions"][0]["user"] == "cas-5820"
    [private] = [row for row in rows if row.direct]
    assert {"user": "cas-5820", "name": "Cas-5820"} in private.payload[0]["mentions"]


async def test_erasing_someone_named_like_a_common_word_leaves_other_messages(
    sessions: Sessions, partnership: Partnership, clock: Clock
) -> None:
    """Only nudges name people in text; a name such as "de" takes nothing else with it."""
    async with sessions() as session, session.begin():
        named_de = await add_member(session, partnership, "de", clock.now)
        other = await add_member(session, partnership, "anna-5150", clock.now)
        replies = (Text(text="Hoe gaat de samenwerking?"),
                   Image(png=b"\x89PNG de" * 50, caption="De vijf voorwaarden"))
        await enqueue(session, [Envelope(
            "checkin", partnership.id, f"member:{other.id}", clock.now.date(), "test",
            "anna-5150", True, replies, clock.now, None, other.id)], clock.now)
        erased = named_de.id
    async with sessions() as session, session.begin():
        assert await erase_member(session, erased) is not None
    async with sessions() as session:
        [row] = list(await session.scalars(select(OutboxMessage)))
    assert load_replies(row.payload) == list(replies)

"""Planning a nudge round: who gets what, in which language, and what the channel sees."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.content import Content
from bot.engine import Engine
from bot.messages import FIRST, Choice, Mention, Scale, Text, mention_mark, split_mentions
from bot.nudges import compose_round
from bot.nudges.ideas import fitting_ideas, suiting_ideas
from bot.store.models import Partnership
from bot.store.nudges import NudgeGroup, NudgeGroupMember, NudgeOptOut, NudgeRound
from tests.conftest import Clock, onboard
from tests.nudge_helpers import (
    MBO,
    VMBO,
    add_member,
    chat_for,
    configure,
    member_id,
    plan_round,
)


def text_of(message: Any, index: int = 0) -> str:
    reply = message.replies[index]
    assert isinstance(reply, Text)
    return reply.text


def shown(message: Any, index: int = 0) -> str:
    """The text as a person reads it: each mention shows the name."""
    reply = message.replies[index]
    assert isinstance(reply, Text)
    return "".join(part.name if isinstance(part, Mention) else part
                   for part in split_mentions(reply.text, reply.mentions))


def mentioned(message: Any, index: int = 0) -> list[str]:
    reply = message.replies[index]
    assert isinstance(reply, Text)
    return [mention.user for mention in reply.mentions]


async def stored_groups(sessions: async_sessionmaker[Any]) -> list[tuple[NudgeGroup, set[int]]]:
    async with sessions() as session:
        groups = list(await session.scalars(select(NudgeGroup).order_by(NudgeGroup.id)))
        result = []
        for group in groups:
            members = set(await session.scalars(select(NudgeGroupMember.member_id).where(
                NudgeGroupMember.group_id == group.id)))
            result.append((group, members))
        return result


async def test_each_paired_person_hears_their_partners_and_an_idea_in_their_language(
    sessions: async_sessionmaker[Any], content: Content, clock: Clock,
    partnership: Partnership, engine: Engine,
) -> None:
    now = clock.now
    for user, school, language in (("anna", VMBO, "nl"), ("bram", MBO, "nl"),
                                   ("cas", VMBO, "en"), ("dirk", MBO, "nl"),
                                   ("eva", VMBO, "nl")):
        await add_member(sessions, partnership, user, school, now, language=language)
    await add_member(sessions, partnership, "fenna", MBO, now,
                     paused_until=now.date() + timedelta(days=7))
    await add_member(sessions, partnership, "gijs", VMBO, now)
    await chat_for(engine, "gijs").say("koffie uit")

    messages = await plan_round(sessions, content, partnership.id, now)

    direct = {m.target: m for m in messages if m.direct}
    assert sorted(direct) == ["anna", "bram", "cas", "dirk", "eva"]
    groups = await stored_groups(sessions)
    assert sorted(len(members) for _, members in groups) == [2, 3]
    assert all(group.cross_school for group, _ in groups)
    ids = {user: await member_id(sessions, user) for user in direct}
    names = {v: k for k, v in ids.items()}
    schools = {"anna": "Vmbo De Brug", "cas": "Vmbo De Brug", "eva": "Vmbo De Brug",
               "bram": "Mbo College Kompas", "dirk": "Mbo College Kompas"}
    for group, members in groups:
        idea = next(i for i in content.ideas if i.id == group.idea_id)
        for member in members:
            user = names[member]
            message = direct[user]
            assert message.member_id == member and message.recipient == f"member:{member}"
            text = shown(message)
            lang = "en" if user == "cas" else "nl"
            assert idea.text.get(lang) in text
            assert text.startswith(content.text("nudge_invite", lang, partners="X", idea="",
                                                minutes=0).split("X")[0])
            partners = sorted(names[partner] for partner in members - {member})
            for partner in partners:
                assert f"{partner.capitalize()} ({schools[partner]})" in text
            assert user.capitalize() not in text
            # Everyone is on the same platform: each partner is a real mention.
            assert sorted(mentioned(message)) == partners
            assert partners[0].capitalize() not in text_of(message)

    channel = [m for m in messages if not m.direct]
    assert [(m.platform, m.target, m.recipient) for m in channel] == [
        ("test", "group-1", "channel:test:group-1")]
    assert text_of(channel[0]) == content.text("nudge_channel", "nl", groups=2)
    assert "Anna" not in text_of(channel[0])


async def test_the_channel_names_the_pairs_only_when_the_partnership_wants_it(
    sessions: async_sessionmaker[Any], content: Content, clock: Clock, partnership: Partnership,
) -> None:
    await add_member(sessions, partnership, "anna", VMBO, clock.now)
    await add_member(sessions, partnership, "bram", MBO, clock.now)
    await configure(sessions, partnership.id, clock.now, names_in_channel=True)
    messages = await plan_round(sessions, content, partnership.id, clock.now)
    channel = [m for m in messages if not m.direct]
    assert text_of(channel[0]) == content.text("nudge_channel_names", "nl",
                                               lines=f"- {mention_mark(0)} en {mention_mark(1)}")
    assert mentioned(channel[0]) == ["anna", "bram"]
    assert shown(channel[0]) == content.text("nudge_channel_names", "nl",
                                             lines="- Anna en Bram")


async def test_only_people_on_the_messages_platform_are_mentioned(
    sessions: async_sessionmaker[Any], content: Content, clock: Clock, partnership: Partnership,
) -> None:
    await add_member(sessions, partnership, "anna", VMBO, clock.now)
    await add_member(sessions, partnership, "bram", MBO, clock.now, platform="slack")
    await configure(sessions, partnership.id, clock.now, names_in_channel=True)
    messages = await plan_round(sessions, content, partnership.id, clock.now)
    direct = {m.target: m for m in messages if m.direct}
    # Anna (on the test platform) reads Bram's plain name; Bram (on Slack) gets Anna's too.
    assert mentioned(direct["anna"]) == [] and "Bram (Mbo College Kompas)" in text_of(
        direct["anna"])
    assert mentioned(direct["bram"]) == [] and "Anna (Vmbo De Brug)" in text_of(direct["bram"])
    channel = [m for m in messages if not m.direct]
    assert [m.platform for m in channel] == ["test"]
    assert text_of(channel[0]).endswith(f"- {mention_mark(0)} en Bram")
    assert mentioned(channel[0]) == ["anna"]


async def test_a_round_is_planned_once_a_day_and_not_at_all_when_switched_off(
    sessions: async_sessionmaker[Any], content: Content, clock: Clock, partnership: Partnership,
) -> None:
    await add_member(sessions, partnership, "anna", VMBO, clock.now)
    await add_member(sessions, partnership, "bram", MBO, clock.now)
    assert len(await plan_round(sessions, content, partnership.id, clock.now)) == 3
    assert await plan_round(sessions, content, partnership.id, clock.now + timedelta(hours=2)) == []
    await configure(sessions, partnership.id, clock.now, enabled=False)
    assert await plan_round(sessions, content, partnership.id, clock.now + timedelta(days=14)) == []
    async with sessions() as session:
        assert await session.scalar(select(func.count(NudgeRound.id))) == 1


async def test_one_person_alone_is_not_paired_and_nothing_is_stored(
    sessions: async_sessionmaker[Any], content: Content, clock: Clock, partnership: Partnership,
) -> None:
    await add_member(sessions, partnership, "anna", VMBO, clock.now)
    assert await plan_round(sessions, content, partnership.id, clock.now) == []
    async with sessions() as session:
        assert await session.scalar(select(func.count(NudgeRound.id))) == 0


async def test_someone_we_cannot_reach_privately_is_invited_in_the_channels_thread(
    sessions: async_sessionmaker[Any], content: Content, clock: Clock, partnership: Partnership,
) -> None:
    anna = await add_member(sessions, partnership, "anna", VMBO, clock.now, unreachable=True)
    await add_member(sessions, partnership, "bram", MBO, clock.now)
    # On a platform without a bound channel there is no way to reach them: left out.
    await add_member(sessions, partnership, "cas", VMBO, clock.now, unreachable=True,
                     platform="slack")
    messages = await plan_round(sessions, content, partnership.id, clock.now)
    assert [m.target for m in messages if m.direct] == ["bram"]
    assert not [m for m in messages if m.member_id == anna]
    # One channel message about the round; Anna's invitation goes in its thread.
    channel = [m for m in messages if not m.direct]
    assert [(m.target, len(m.replies)) for m in channel] == [("group-1", 2)]
    note, invitation = channel[0].replies
    assert note.thread_of is None and invitation.thread_of == FIRST
    assert text_of(channel[0]) == content.text("nudge_channel", "nl", groups=1)
    assert text_of(channel[0], 1).startswith(f"{mention_mark(0)},")
    assert mentioned(channel[0], 1) == ["anna", "bram"]
    assert shown(channel[0], 1).startswith("Anna, ")
    assert "Bram (Mbo College Kompas)" in shown(channel[0], 1)


async def test_the_preview_shows_the_round_the_planner_then_makes(
    sessions: async_sessionmaker[Any], content: Content, clock: Clock, partnership: Partnership,
) -> None:
    for n in range(3):
        await add_member(sessions, partnership, f"v{n}", VMBO, clock.now)
        await add_member(sessions, partnership, f"m{n}", MBO, clock.now)
    await add_member(sessions, partnership, "slack-only", VMBO, clock.now, unreachable=True,
                     platform="slack")
    async with sessions() as session:
        found = await session.get(Partnership, partnership.id)
        assert found is not None
        plan = await compose_round(session, content, found, clock.now)
    assert [(m.user_ref, why) for m, why in plan.left_out] == [
        ("slack-only", "unreachable, no channel on their platform")]
    async with sessions() as session:
        assert await session.scalar(select(func.count(NudgeRound.id))) == 0
    await plan_round(sessions, content, partnership.id, clock.now)
    stored = await stored_groups(sessions)
    assert sorted(sorted(members) for _, members in stored) == sorted(
        sorted(m.id for m in group.members) for group in plan.groups)
    assert [g.idea_id for g, _ in stored] == [g.idea.id for g in plan.groups]


async def test_ideas_fit_the_setting_time_and_level_and_are_not_repeated_for_the_pair(
    sessions: async_sessionmaker[Any], content: Content, clock: Clock, partnership: Partnership,
) -> None:
    await add_member(sessions, partnership, "anna", VMBO, clock.now)
    await add_member(sessions, partnership, "bram", MBO, clock.now)
    await configure(sessions, partnership.id, clock.now, same_building=True, max_minutes=20)
    fitting = suiting_ideas(fitting_ideas(content.ideas, same_building=True, max_minutes=20),
                            {"teachers"})
    assert 3 <= len(fitting) < len(content.ideas)
    for day in range(len(fitting) + 1):
        await plan_round(sessions, content, partnership.id, clock.now + timedelta(days=day))
    ideas = [group.idea_id for group, _ in await stored_groups(sessions)]
    by_id = {idea.id: idea for idea in content.ideas}
    assert all(by_id[i].setting in ("same_building", "any") and by_id[i].minutes <= 20
               for i in ideas)
    # Every fitting idea once before any comes back; then the one given longest ago.
    assert sorted(ideas[:-1]) == sorted(i.id for i in fitting)
    assert ideas[-1] == ideas[0]


async def test_coffee_off_stops_nudges_but_not_check_ins_and_coffee_on_rejoins(
    sessions: async_sessionmaker[Any], content: Content, clock: Clock, partnership: Partnership,
    engine: Engine,
) -> None:
    chat = chat_for(engine, "anna")
    await onboard(chat)
    assert await chat.say("koffie uit") == [Text(text=content.text("coffee_off", "nl"))]
    anna = await member_id(sessions, "anna")
    async with sessions() as session:
        assert await session.get(NudgeOptOut, anna) is not None
    replies = await chat.say("checkin")
    assert any(isinstance(reply, Scale) for reply in replies)

    assert await chat.say("coffee on") == [Text(text=content.text("coffee_on", "nl"))]
    async with sessions() as session:
        assert await session.get(NudgeOptOut, anna) is None


async def test_plain_koffie_offers_the_one_button_that_changes_it(
    sessions: async_sessionmaker[Any], content: Content, partnership: Partnership,
    engine: Engine, clock: Clock,
) -> None:
    chat = chat_for(engine, "anna")
    await onboard(chat)
    replies = await chat.say("koffie")
    assert isinstance(replies[0], Choice)
    assert replies[0].prompt == content.text("coffee_status_on", "nl")
    assert await chat.press("Koffie uit") == [Text(text=content.text("coffee_off", "nl"))]
    replies = await chat.say("koffie")
    assert isinstance(replies[0], Choice) and [o.label for o in replies[0].options] == [
        "Koffie aan"]
    assert await chat.say("1") == [Text(text=content.text("coffee_on", "nl"))]

    replies = await chat.say("koffie misschien")
    assert replies[0] == Text(text=content.text("coffee_usage", "nl"))
    await configure(sessions, partnership.id, clock.now, enabled=False)
    assert await chat.say("koffie aan") == [
        Text(text=content.text("coffee_on", "nl")),
        Text(text=content.text("coffee_partnership_off", "nl")),
    ]


async def test_mixing_levels_when_enabled_happens_every_third_round(
    sessions: async_sessionmaker[Any], content: Content, clock: Clock, partnership: Partnership,
) -> None:
    await add_member(sessions, partnership, "anna", VMBO, clock.now, level="board")
    await add_member(sessions, partnership, "bram", MBO, clock.now, level="board")
    await add_member(sessions, partnership, "cas", VMBO, clock.now)
    await add_member(sessions, partnership, "dirk", MBO, clock.now)
    await configure(sessions, partnership.id, clock.now, mix_levels=True)
    for day in range(4):
        await plan_round(sessions, content, partnership.id, clock.now + timedelta(days=day))
    async with sessions() as session:
        rounds = list(await session.scalars(select(NudgeRound).order_by(NudgeRound.number)))
    assert [r.mixed_levels for r in rounds] == [False, False, True, False]
    first = (await stored_groups(sessions))[:2]
    levels = {await member_id(sessions, u): lvl for u, lvl in (
        ("anna", "board"), ("bram", "board"), ("cas", "teachers"), ("dirk", "teachers"))}
    # The first round, with nobody met before, pairs counterparts.
    assert all(len({levels[m] for m in members}) == 1 for _, members in first)

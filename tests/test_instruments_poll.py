"""The pitfalls poll in the channel: one vote per member, a result only from three votes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.memory import MemoryChat
from bot.content import Content
from bot.engine import Engine
from bot.messages import Choice, Reply, Text, Unreachable
from bot.store.instruments import PitfallPoll, PitfallVote
from bot.store.models import Partnership
from tests.conftest import Clock
from tests.instruments_fakes import (
    GROUP,
    Person,
    add_people,
    as_private,
    channel_posts,
    queued_posts,
    said,
)


@pytest.fixture
async def team(engine: Engine, sessions: async_sessionmaker[Any], partnership: Partnership,
               clock: Clock) -> dict[str, Person]:
    return await add_people(engine, sessions, partnership, clock,
                            "lea", "anna", "bram", "cem", leader="lea")


async def votes(sessions: async_sessionmaker[Any]) -> list[tuple[str, str]]:
    async with sessions() as session:
        rows = await session.execute(
            select(PitfallVote.member_id, PitfallVote.pitfall_id).order_by(PitfallVote.id))
        return [(str(member), pitfall) for member, pitfall in rows]


async def test_the_poll_counts_one_vote_per_member_and_posts_the_result_at_three(
    team: dict[str, Person], engine: Engine, sessions: async_sessionmaker[Any], clock: Clock,
    content: Content,
) -> None:
    channel = MemoryChat(engine, chat=GROUP, direct=False)
    replies = await team["anna"].group.say("valkuilen peiling")
    poll = replies[0]
    assert isinstance(poll, Choice) and not poll.private
    assert poll.prompt == content.text("poll_question", "nl", minimum=3)
    assert [o.value for o in poll.options] == [f"pv:1:{n}" for n in range(1, 6)]
    names = [p.name.nl for p in content.pitfalls]

    assert await team["anna"].group.press_value("pv:1:3") == [
        as_private(said(content, "poll_voted", pitfall=names[2]))]
    await team["bram"].group.press_value("pv:1:3")
    assert await team["bram"].group.press_value("pv:1:4") == [
        as_private(said(content, "poll_vote_changed", pitfall=names[3]))]
    # Two votes: the starter asks for the result, the poll stays open and shows no counts.
    assert await team["anna"].group.say("valkuilen uitslag") == [
        Text(text=content.text("poll_too_few", "nl", count=2, minimum=3), public=True)]
    assert await channel_posts(sessions, clock, channel) == []

    await team["cem"].group.press_value("pv:1:1")
    assert sorted(p for _, p in await votes(sessions)) == sorted(
        [content.pitfalls[i].id for i in (2, 3, 0)])
    [posted] = await channel_posts(sessions, clock, channel)
    assert isinstance(posted, Text)
    lines = posted.text.splitlines()
    assert lines[0] == content.text("poll_result_title", "nl", count=3)
    assert lines[1:4] == [
        content.text("poll_result_row", "nl", pitfall=names[0], count=1, bar="██░░░"),
        content.text("poll_result_row", "nl", pitfall=names[2], count=1, bar="██░░░"),
        content.text("poll_result_row", "nl", pitfall=names[3], count=1, bar="██░░░"),
    ]
    assert content.pitfalls[0].success_factors[0].nl in posted.text
    assert lines[-1] == content.text("poll_result_open", "nl", minimum=3)
    for person in team.values():
        assert person.user not in posted.text.lower()

    # A fourth vote is counted, but the channel sees no second result for one vote.
    await team["lea"].group.press_value("pv:1:2")
    assert await channel_posts(sessions, clock, channel) == []
    assert await queued_posts(sessions) == [("instrument", "poll:1", GROUP)]
    assert await team["anna"].group.say("valkuilen uitslag") == [Text(
        text=content.text("poll_closed_shown", "nl", count=4, minimum=3), public=True)]

    # Closed: a late vote is refused and nothing is shown again.
    assert await team["bram"].group.press_value("pv:1:2") == [
        as_private(said(content, "poll_closed"))]
    assert await team["anna"].group.say("valkuilen uitslag") == [
        as_private(said(content, "poll_none_open"))]
    assert len(await votes(sessions)) == 4


async def test_a_partnership_with_a_higher_threshold_sees_no_counts_below_it(
    team: dict[str, Person], engine: Engine, sessions: async_sessionmaker[Any], clock: Clock,
    content: Content, partnership: Partnership,
) -> None:
    """An operator set this partnership's threshold to 4: the poll keeps to it, as its
    monthly summaries do."""
    async with sessions() as session, session.begin():
        (await session.get(Partnership, partnership.id)).min_group_size = 4  # type: ignore[union-attr]
    channel = MemoryChat(engine, chat=GROUP, direct=False)
    [poll] = await team["anna"].group.say("valkuilen peiling")
    assert isinstance(poll, Choice)
    assert poll.prompt == content.text("poll_question", "nl", minimum=4)
    for name, vote in (("anna", 3), ("bram", 4), ("cem", 1)):
        await team[name].group.press_value(f"pv:1:{vote}")
    assert await channel_posts(sessions, clock, channel) == []
    assert await team["anna"].group.say("valkuilen uitslag") == [
        Text(text=content.text("poll_too_few", "nl", count=3, minimum=4), public=True)]
    await team["lea"].group.press_value("pv:1:2")
    [posted] = await channel_posts(sessions, clock, channel)
    assert isinstance(posted, Text)
    assert posted.text.splitlines()[0] == content.text("poll_result_title", "nl", count=4)


async def test_three_more_votes_give_a_final_result_when_the_poll_closes(
    engine: Engine, sessions: async_sessionmaker[Any], partnership: Partnership,
    clock: Clock, content: Content,
) -> None:
    team = await add_people(engine, sessions, partnership, clock, "lea", "anna", "bram",
                            "cem", "dirk", "eva", leader="lea")
    channel = MemoryChat(engine, chat=GROUP, direct=False)
    await team["lea"].group.say("valkuilen peiling")
    for user, number in (("anna", 1), ("bram", 1), ("cem", 2)):
        await team[user].group.press_value(f"pv:1:{number}")
    assert len(await channel_posts(sessions, clock, channel)) == 1
    for user in ("dirk", "eva", "lea"):
        await team[user].group.press_value("pv:1:5")
    [final] = await team["lea"].group.say("valkuilen uitslag")
    assert isinstance(final, Text) and final.public
    name = content.pitfalls[4].name.nl
    assert final.text.splitlines()[:2] == [
        content.text("poll_final_title", "nl", count=6),
        content.text("poll_result_row", "nl", pitfall=name, count=3, bar="██░░░")]


async def test_only_the_starter_or_a_leader_closes_a_poll(
    team: dict[str, Person], engine: Engine, sessions: async_sessionmaker[Any], clock: Clock,
    content: Content,
) -> None:
    await team["anna"].group.say("pitfalls poll")
    for user in ("anna", "bram", "cem"):
        await team[user].group.press_value("pv:1:5")
    await channel_posts(sessions, clock, MemoryChat(engine, chat=GROUP, direct=False))
    assert await team["bram"].group.say("valkuilen uitslag") == [
        as_private(said(content, "poll_not_yours"))]
    assert await team["anna"].dm.say("valkuilen uitslag") == [said(content, "poll_close_there")]
    replies = await team["lea"].group.say("pitfalls result")
    assert replies == [Text(text=content.text("poll_closed_shown", "nl", count=3, minimum=3),
                            public=True)]
    async with sessions() as session:
        poll = await session.scalar(select(PitfallPoll))
        assert poll is not None and poll.closed_at is not None


async def test_a_second_start_shows_the_open_poll_again_and_typed_votes_count(
    team: dict[str, Person], sessions: async_sessionmaker[Any], content: Content
) -> None:
    await team["lea"].dm.say("valkuilen peiling")
    replies = await team["lea"].dm.say("valkuilen peiling")
    assert isinstance(replies[0], Choice) and replies[0].options[0].value == "pv:1:1"
    # A private chat is no team channel: the result waits until the poll is closed.
    assert replies[0].prompt == content.text("poll_question_on_close", "nl", minimum=3)
    assert await team["lea"].dm.say("2") == [
        said(content, "poll_voted", pitfall=content.pitfalls[1].name.nl)]
    async with sessions() as session:
        assert await session.scalar(select(PitfallPoll.id).where(PitfallPoll.id == 2)) is None
    assert len(await votes(sessions)) == 1


async def test_browsing_the_pitfalls_still_works(team: dict[str, Person], content: Content) -> None:
    replies = await team["anna"].dm.say("valkuilen")
    assert isinstance(replies[0], Choice) and len(replies[0].options) == 5
    assert replies[0].options[0].value.startswith("pitfall:")
    replies = await team["anna"].dm.say("valkuilen 2")
    assert replies[0].text.startswith("Valkuil 2")  # type: ignore[attr-defined]


@pytest.mark.parametrize("value", ["pv:9:1", "pv:1:9", "pv:1:x", "pv:1"])
async def test_stale_or_forged_votes_get_a_kind_answer(
    team: dict[str, Person], sessions: async_sessionmaker[Any], content: Content, value: str
) -> None:
    await team["anna"].group.say("valkuilen peiling")
    assert await team["bram"].dm.press_value(value) == [said(content, "stale_button")]
    assert await votes(sessions) == []


class ClosedChannel(MemoryChat):
    """A chat the bot may no longer post in."""

    async def send(self, chat: str, replies: Sequence[Reply]) -> None:
        raise Unreachable("channel_not_found")


async def test_a_result_that_never_arrived_is_shown_when_the_poll_closes(
    team: dict[str, Person], engine: Engine, sessions: async_sessionmaker[Any], clock: Clock,
    content: Content,
) -> None:
    await team["anna"].group.say("valkuilen peiling")
    for user in ("anna", "bram", "cem"):
        await team[user].group.press_value("pv:1:4")
    assert await channel_posts(sessions, clock, ClosedChannel(engine, chat=GROUP)) == []
    [result] = await team["anna"].group.say("valkuilen uitslag")
    assert result.text.startswith(  # type: ignore[attr-defined]
        content.text("poll_result_title", "nl", count=3))

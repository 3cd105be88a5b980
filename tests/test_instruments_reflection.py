"""The reflection session in a team meeting, as the project leader and the team live it."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.content import CONDITION_IDS, Content
from bot.engine import Engine
from bot.messages import Choice, Invitation, Scale, Text
from bot.store.instruments import ReflectionAnswer, ReflectionSession
from bot.store.models import Partnership
from tests.conftest import Clock
from tests.instruments_fakes import Person, add_people, as_private, said

LABELS = {"1": "helemaal mee oneens", "2": "mee oneens", "3": "neutraal", "4": "mee eens",
          "5": "helemaal mee eens", "dk": "weet ik niet"}


@pytest.fixture
async def team(engine: Engine, sessions: async_sessionmaker[Any], partnership: Partnership,
               clock: Clock) -> dict[str, Person]:
    return await add_people(engine, sessions, partnership, clock,
                            "lea", "anna", "bram", "cem", leader="lea")


async def open_session(leader: Person) -> Invitation:
    replies = await leader.group.say("reflectie start")
    invitation = replies[0]
    assert isinstance(invitation, Invitation) and not invitation.private
    assert isinstance(replies[1], Choice) and replies[1].private  # the leader's own buttons
    return invitation


async def answer_all(person: Person, invitation: Invitation, scores: str) -> None:
    """Follow the invitation privately and press one score per condition."""
    replies = await person.dm.press_value(invitation.action)
    assert isinstance(replies[-1], Scale) and replies[-1].prompt.startswith("1/5")
    for score in scores.split():
        await person.dm.press(LABELS[score])


async def stored(sessions: async_sessionmaker[Any]) -> list[ReflectionAnswer]:
    async with sessions() as session:
        return list(await session.scalars(select(ReflectionAnswer).order_by(ReflectionAnswer.id)))


def row(content: Content, condition: str, mean: str, count: int, bar: str) -> str:
    return content.text("reflection_row", "nl", condition=content.condition(condition).name.nl,
                        mean=mean, count=count, bar=bar)


async def test_a_session_shows_the_aggregate_to_the_channel_when_the_leader_closes_it(
    team: dict[str, Person], sessions: async_sessionmaker[Any], content: Content
) -> None:
    invitation = await open_session(team["lea"])
    await answer_all(team["anna"], invitation, "1 2 3 4 5")
    await answer_all(team["bram"], invitation, "2 2 4 4 dk")
    await answer_all(team["cem"], invitation, "3 5 2 4 5")
    assert team["cem"].dm.sent[-1] == said(content, "reflection_done")
    assert len(await stored(sessions)) == 15

    replies = await team["lea"].group.say("reflectie sluit")
    assert len(replies) == 1 and isinstance(replies[0], Text) and not replies[0].private
    shown = replies[0].text.splitlines()
    assert shown[0] == content.text("reflection_result_title", "nl", number=1, count=3)
    assert shown[1:6] == [
        row(content, "ambition", "2.0", 3, "██░░░"),
        row(content, "interests", "3.0", 3, "███░░"),
        row(content, "relations", "3.0", 3, "███░░"),
        row(content, "organisation", "4.0", 3, "████░"),
        content.text("reflection_row_hidden", "nl", condition="Helder proces", count=2,
                     minimum=3),
    ]
    # The two lowest conditions to talk about (a tie goes to the first), with a question.
    talk = shown[shown.index(content.text("reflection_talk_about", "nl")) + 1:]
    assert talk == [
        f"- Gedeelde ambitie: {content.condition('ambition').followups[0].nl}",
        f"- Recht doen aan belangen: {content.condition('interests').followups[0].nl}",
    ]
    for person in team.values():  # no names or user ids in what the channel sees
        assert person.user not in replies[0].text.lower()


async def test_with_two_respondents_the_channel_sees_no_numbers(
    team: dict[str, Person], content: Content
) -> None:
    invitation = await open_session(team["lea"])
    await answer_all(team["anna"], invitation, "5 5 5 5 5")
    await answer_all(team["bram"], invitation, "1 1 1 1 1")
    replies = await team["lea"].group.say("reflectie stand")
    assert replies == [as_private(said(content, "reflection_status", number=1, count=2,
                                       minimum=3))]

    replies = await team["lea"].group.say("reflectie sluit")
    assert replies == [Text(text="\n".join([
        content.text("reflection_result_title", "nl", number=1, count=2),
        content.text("reflection_too_few", "nl", count=2, minimum=3),
    ]), public=True)]
    assert "gemiddeld" not in replies[0].text  # type: ignore[attr-defined]


async def test_only_a_project_leader_starts_and_closes_a_session(
    team: dict[str, Person], sessions: async_sessionmaker[Any], content: Content
) -> None:
    refused = [as_private(said(content, "leaders_only"))]
    assert await team["anna"].group.say("reflectie start") == refused
    async with sessions() as session:
        assert await session.scalar(select(ReflectionSession.id)) is None

    invitation = await open_session(team["lea"])
    assert await team["anna"].group.say("/reflectie sluit") == refused
    assert await team["anna"].dm.say("reflection close") == [said(content, "leaders_only")]
    # The leader, too, closes it where it was opened, so the whole team sees the result.
    assert await team["lea"].dm.say("reflectie sluit") == [
        said(content, "reflection_close_there")]
    async with sessions() as session:
        open_ = await session.scalar(select(ReflectionSession))
        assert open_ is not None and open_.closed_at is None
    # A member who types the command (or presses the button) answers instead.
    replies = await team["anna"].group.say("reflectie")
    assert isinstance(replies[-1], Scale) and replies[-1].private
    assert invitation.action == "rj:1"


async def test_an_answer_can_be_changed_until_the_session_closes(
    team: dict[str, Person], sessions: async_sessionmaker[Any], content: Content
) -> None:
    invitation = await open_session(team["lea"])
    await answer_all(team["anna"], invitation, "4 4 4 4 4")
    first_button = team["anna"].dm.find_option("rs:1:ambition:2").value
    await team["anna"].dm.press_value(first_button)
    rows = [(a.condition, a.score) for a in await stored(sessions)]
    assert rows == [(c, 2 if c == "ambition" else 4) for c in CONDITION_IDS]

    await team["lea"].group.say("reflectie sluit")
    assert await team["anna"].dm.press_value("rs:1:ambition:5") == [
        said(content, "reflection_closed")]
    assert (await stored(sessions))[0].score == 2


async def test_a_session_in_a_text_only_chat_takes_typed_answers(
    team: dict[str, Person], sessions: async_sessionmaker[Any], content: Content
) -> None:
    lea = team["lea"].dm
    replies = await lea.say("reflectie")
    assert isinstance(replies[0], Choice)  # no session yet: the leader may start one
    await lea.say("1")
    replies = await lea.say("1")  # "Doe mee"
    assert replies[0] == said(content, "reflection_intro", minimum=3)
    for typed in ("4", "?", "-", "zeven", "5", "3"):
        replies = await lea.say(typed)
    assert replies == [said(content, "reflection_done")]
    assert [(a.status, a.score) for a in await stored(sessions)] == [
        ("scored", 4), ("dont_know", None), ("skipped", None), ("scored", 5), ("scored", 3)]


@pytest.mark.parametrize("value", ["rs:99:ambition:3", "rs:1:nope:3", "rs:1:ambition:9",
                                   "rj:abc", "rj:99", "rs:1"])
async def test_stale_or_forged_session_buttons_get_a_kind_answer(
    team: dict[str, Person], sessions: async_sessionmaker[Any], content: Content, value: str
) -> None:
    await open_session(team["lea"])
    assert await team["anna"].dm.press_value(value) == [said(content, "stale_button")]
    assert await stored(sessions) == []

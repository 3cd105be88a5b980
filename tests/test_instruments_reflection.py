"""The reflection session in a team meeting, as the project leader and the team live it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.memory import MemoryChat
from bot.content import Content
from bot.domain import CONDITION_IDS
from bot.engine import Engine
from bot.flows.instruments import reflection_result
from bot.messages import Choice, FreeText, Invitation, Noted, Scale, Text
from bot.store import db
from bot.store.instruments import ReflectionAnswer, ReflectionSession
from bot.store.models import Member, Partnership, School
from bot.store.schedule import OutboxMessage
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
from tests.summary_fakes import Partners

LABELS = {"1": "gaat niet goed", "2": "matig", "3": "redelijk", "4": "goed",
          "5": "gaat heel goed", "dk": "weet ik niet"}
SKIP_NOTE = "Sla over"


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


async def answer_all(person: Person, invitation: Invitation, scores: str,
                     notes: list[str] | None = None) -> None:
    """Follow the invitation privately and press one score per condition, each followed
    by a note (typed) or by skipping it."""
    replies = await person.dm.press_value(invitation.action)
    assert isinstance(replies[-1], Scale) and replies[-1].prompt.startswith("1/5")
    for index, score in enumerate(scores.split()):
        asked = await person.dm.press(LABELS[score])
        assert isinstance(asked[-1], FreeText)
        if notes and notes[index]:
            await person.dm.say(notes[index])
        else:
            await person.dm.press(SKIP_NOTE)


async def stored(sessions: async_sessionmaker[Any]) -> list[ReflectionAnswer]:
    async with sessions() as session:
        return list(await session.scalars(select(ReflectionAnswer).order_by(ReflectionAnswer.id)))


def compare(content: Content, schools: list[tuple[str, str, int]], gap: str,
            lang: str = "nl") -> str:
    parts = [content.text("reflection_school", lang, school=school, mean=mean, count=count)
             for school, mean, count in schools]
    return content.text("reflection_compare", lang, schools=" · ".join(parts), gap=gap)


def row(content: Content, condition: str, mean: str, count: int, bar: str) -> str:
    return content.text("reflection_row", "nl", condition=content.condition(condition).name.nl,
                        mean=mean, count=count, bar=bar)


async def test_the_channel_sees_the_aggregate_once_three_have_answered(
    team: dict[str, Person], engine: Engine, sessions: async_sessionmaker[Any], clock: Clock,
    content: Content,
) -> None:
    channel = MemoryChat(engine, chat=GROUP, direct=False)
    invitation = await open_session(team["lea"])
    await answer_all(team["anna"], invitation, "1 2 3 4 5")
    await answer_all(team["bram"], invitation, "2 2 4 4 dk")
    assert await channel_posts(sessions, clock, channel) == []  # two: nothing yet
    await answer_all(team["cem"], invitation, "3 5 2 4 5")
    # Cem's last answer made the third: the total is on its way, and Cem hears so.
    assert team["cem"].dm.sent[-1] == said(content, "reflection_done_shown", minimum=3)
    assert len(await stored(sessions)) == 15

    [posted] = await channel_posts(sessions, clock, channel)
    assert isinstance(posted, Text) and posted.thread_of is None
    shown = posted.text.splitlines()
    assert shown[0] == content.text("reflection_result_title", "nl", number=1, count=3)
    assert shown[1:6] == [
        row(content, "ambition", "2,0", 3, "██░░░"),
        row(content, "interests", "3,0", 3, "███░░"),
        row(content, "relations", "3,0", 3, "███░░"),
        row(content, "organisation", "4,0", 3, "████░"),
        content.text("reflection_row_hidden", "nl", condition="Helder proces", count=2,
                     minimum=3),
    ]
    # The two lowest conditions to talk about (a tie goes to the first), with a question.
    # Then what goes well, from the highest score.
    talk = shown[shown.index(content.text("reflection_talk_about", "nl")) + 1:-2]
    assert talk == [
        f"- Gedeelde ambitie: {content.statement('ambition_2').followup.nl}",
        f"- Recht doen aan belangen: {content.statement('interests_2').followup.nl}",
        "- Professioneel organiseren scoort het hoogst: wat gaat daar goed, en hoe komt dat?",
    ]
    assert shown[-1] == content.text("reflection_result_open", "nl", minimum=3)
    for person in team.values():  # no names or user ids in what the channel sees
        assert person.user not in posted.text.lower()

    # A fourth answer changes nothing in the channel: one post, however many answer.
    await answer_all(team["lea"], invitation, "5 5 5 5 dk")
    assert team["lea"].dm.sent[-1] == said(content, "reflection_done_shown", minimum=3)
    assert await channel_posts(sessions, clock, channel) == []
    assert await queued_posts(sessions) == [("instrument", "reflection:1", GROUP)]
    # Closing after one more answer: a second total would show Lea's scores, so the first
    # one stands and the channel only hears that the session closed.
    replies = await team["lea"].group.say("reflectie sluit")
    assert replies == [Text(text=content.text("reflection_closed_shown", "nl", number=1,
                                              count=4, minimum=3), public=True)]
    assert await team["anna"].dm.press_value("rs:1:ambition:5") == [
        said(content, "reflection_closed")]


async def test_a_partnership_with_a_higher_threshold_sees_nothing_below_it(
    team: dict[str, Person], engine: Engine, sessions: async_sessionmaker[Any], clock: Clock,
    content: Content, partnership: Partnership,
) -> None:
    """An operator set this partnership's threshold to 4: the reflection keeps to it, as
    its monthly summaries do, not to the lowest threshold of 3."""
    async with sessions() as session, session.begin():
        (await session.get(Partnership, partnership.id)).min_group_size = 4  # type: ignore[union-attr]
    channel = MemoryChat(engine, chat=GROUP, direct=False)
    invitation = await open_session(team["lea"])
    for name, scores in (("anna", "1 2 3 4 5"), ("bram", "2 2 4 4 3"), ("cem", "3 5 2 4 5")):
        await answer_all(team[name], invitation, scores)
    assert await channel_posts(sessions, clock, channel) == []  # three: nothing yet
    assert team["cem"].dm.sent[-1] != said(content, "reflection_done_shown", minimum=3)
    await answer_all(team["lea"], invitation, "5 5 5 5 5")
    [posted] = await channel_posts(sessions, clock, channel)
    assert isinstance(posted, Text)
    assert posted.text.splitlines()[0] == content.text("reflection_result_title", "nl",
                                                       number=1, count=4)
    assert posted.text.splitlines()[-1] == content.text("reflection_result_open", "nl",
                                                        minimum=4)


async def test_closing_updates_only_what_three_or_more_new_answers_hide(
    engine: Engine, sessions: async_sessionmaker[Any], partnership: Partnership,
    clock: Clock, content: Content,
) -> None:
    team = await add_people(engine, sessions, partnership, clock, "lea", "anna", "bram",
                            "cem", "dirk", "eva", "fien", leader="lea")
    channel = MemoryChat(engine, chat=GROUP, direct=False)
    invitation = await open_session(team["lea"])
    for user in ("anna", "bram", "cem"):
        await answer_all(team[user], invitation, "3 3 3 3 dk")
    [first] = await channel_posts(sessions, clock, channel)
    assert row(content, "ambition", "3,0", 3, "███░░") in first.text  # type: ignore[attr-defined]
    # Three more score most conditions, and the last one, which had no number yet; only
    # one more scores interests, so its earlier number stands.
    await answer_all(team["dirk"], invitation, "5 5 5 5 5")
    await answer_all(team["eva"], invitation, "5 dk 5 5 5")
    await answer_all(team["fien"], invitation, "5 dk 5 5 5")
    assert await channel_posts(sessions, clock, channel) == []

    [final] = await team["lea"].group.say("reflectie sluit")
    assert isinstance(final, Text) and final.public
    earlier = content.text("reflection_row_earlier", "nl")
    # Three people of each school scored ambition, relations and organisation: both
    # schools are shown next to those numbers. Interests keeps its number, without schools.
    schools = compare(content, [("Mbo College Kompas", "3,7", 3), ("Vmbo De Brug", "4,3", 3)],
                      "0,7")
    assert final.text.splitlines()[:9] == [
        content.text("reflection_final_title", "nl", number=1, count=6),
        row(content, "ambition", "4,0", 6, "████░"), schools,
        row(content, "interests", "3,0", 3, "███░░") + earlier,
        row(content, "relations", "4,0", 6, "████░"), schools,
        row(content, "organisation", "4,0", 6, "████░"), schools,
        row(content, "process", "5,0", 3, "█████"),
    ]
    assert "Recht doen aan belangen" in final.text.splitlines()[-3]  # the lowest shown
    assert final.text.splitlines()[-1].startswith("- Helder proces scoort het hoogst")


async def test_a_session_opened_in_a_private_chat_posts_nothing_by_itself(
    team: dict[str, Person], engine: Engine, sessions: async_sessionmaker[Any], clock: Clock,
    content: Content,
) -> None:
    replies = await team["lea"].dm.say("reflectie start")
    invitation = next(r for r in replies if isinstance(r, Invitation))
    # Nobody is promised a post at three: the total comes when the session is closed.
    assert isinstance(replies[-1], Choice) and replies[-1].prompt == content.text(
        "reflection_leader_next_on_close", "nl", minimum=3)
    for user in ("anna", "bram", "cem"):
        await answer_all(team[user], invitation, "4 4 4 4 4")
        assert team[user].dm.sent[-1] == said(content, "reflection_done_on_close", minimum=3)
    assert await queued_posts(sessions) == []
    assert await team["lea"].dm.say("reflectie stand") == [Text(text=" ".join([
        content.text("reflection_status", "nl", number=1, done=3, busy=0),
        content.text("reflection_status_on_close", "nl", minimum=3)]))]
    [result] = await team["lea"].dm.say("reflectie sluit")
    assert result.text.startswith(  # type: ignore[attr-defined]
        content.text("reflection_result_title", "nl", number=1, count=3))


async def test_with_two_respondents_the_channel_sees_no_numbers(
    team: dict[str, Person], content: Content
) -> None:
    invitation = await open_session(team["lea"])
    await answer_all(team["anna"], invitation, "5 5 5 5 5")
    await answer_all(team["bram"], invitation, "1 1 1 1 1")
    replies = await team["lea"].group.say("reflectie stand")
    assert replies == [Text(text=" ".join([
        content.text("reflection_status", "nl", number=1, done=2, busy=0),
        content.text("reflection_status_posts", "nl", minimum=3)]), private=True)]

    replies = await team["lea"].group.say("reflectie sluit")
    assert replies == [Text(text="\n".join([
        content.text("reflection_result_title", "nl", number=1, count=2),
        content.text("reflection_too_few", "nl", count=2, minimum=3),
    ]), public=True)]
    assert "gemiddeld" not in replies[0].text  # type: ignore[attr-defined]


async def test_the_count_tells_who_is_done_as_the_post_at_three_counts_them(
    team: dict[str, Person], content: Content
) -> None:
    invitation = await open_session(team["lea"])

    async def count() -> str:
        [reply] = await team["lea"].group.say("reflectie stand")
        return reply.text  # type: ignore[attr-defined]

    await answer_all(team["anna"], invitation, "4 4 4 4 4")
    await answer_all(team["bram"], invitation, "4 4 4 4 4")
    await team["cem"].dm.press_value(invitation.action)
    await team["cem"].dm.press(LABELS["3"])  # one condition of five: not done yet
    await team["cem"].dm.press(SKIP_NOTE)
    assert await count() == " ".join([
        content.text("reflection_status", "nl", number=1, done=2, busy=1),
        content.text("reflection_status_posts", "nl", minimum=3)])
    for _ in range(4):
        await team["cem"].dm.press(LABELS["3"])
        await team["cem"].dm.press(SKIP_NOTE)
    assert await count() == " ".join([
        content.text("reflection_status", "nl", number=1, done=3, busy=0),
        content.text("reflection_status_shown", "nl", minimum=3)])


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
    assert isinstance(replies[0], Choice)
    assert replies[0].prompt == content.text("reflection_intro", "nl", minimum=3)
    assert [o.label for o in replies[0].options] == ["Stop"]
    for typed in ("4", "De lijnen zijn kort", "?", "-", "-", "overslaan", "zeven", "5"):
        replies = await lea.say(typed)
    # A bare number where words are asked is confirmed first.
    [confirm] = await lea.say("3")
    assert isinstance(confirm, Choice) and confirm.prompt == content.text(
        "reflection_note_number", "nl", number="3")
    await lea.press("Ja, bewaar het zo")
    await lea.say("3")
    replies = await lea.say("Samen plannen, dat werkt")
    assert replies == [said(content, "reflection_done_on_close", minimum=3)]
    assert [(a.status, a.score, a.note) for a in await stored(sessions)] == [
        ("scored", 4, "De lijnen zijn kort"), ("dont_know", None, None),
        ("skipped", None, None), ("scored", 5, "3"), ("scored", 3, "Samen plannen, dat werkt")]


async def test_a_typed_stop_leaves_the_questions_and_keeps_what_was_answered(
    team: dict[str, Person], sessions: async_sessionmaker[Any], content: Content
) -> None:
    lea = team["lea"].dm
    await lea.say("reflectie start")
    await lea.say("reflectie")
    await lea.say("4")
    assert await lea.say("Stop") == [said(content, "reflection_stopped")]  # asked for a note
    assert [(a.condition, a.score, a.note) for a in await stored(sessions)] == [
        ("ambition", 4, None)]
    [again] = await lea.say("reflectie")  # the next condition, where it was left
    assert isinstance(again, Scale) and again.prompt.startswith("2/5")


@pytest.mark.parametrize("value", ["rs:99:ambition:3", "rs:1:nope:3", "rs:1:ambition:9",
                                   "rj:abc", "rj:99", "rs:1"])
async def test_stale_or_forged_session_buttons_get_a_kind_answer(
    team: dict[str, Person], sessions: async_sessionmaker[Any], content: Content, value: str
) -> None:
    await open_session(team["lea"])
    assert await team["anna"].dm.press_value(value) == [said(content, "stale_button")]
    assert await stored(sessions) == []


async def test_a_result_still_waiting_to_be_posted_is_replaced_by_the_closing_one(
    team: dict[str, Person], engine: Engine, sessions: async_sessionmaker[Any], clock: Clock,
    content: Content,
) -> None:
    """Without a sender running (ACHTJE_SCHEDULER=0) the first post never goes out: closing
    shows the whole result, and the waiting post is taken back so it cannot follow."""
    channel = MemoryChat(engine, chat=GROUP, direct=False)
    invitation = await open_session(team["lea"])
    for user in ("anna", "bram", "cem", "lea"):
        await answer_all(team[user], invitation, "4 4 4 4 4")
    [result] = await team["lea"].group.say("reflectie sluit")
    assert result.text.splitlines()[:2] == [  # type: ignore[attr-defined]
        content.text("reflection_result_title", "nl", number=1, count=4),
        row(content, "ambition", "4,0", 4, "████░")]
    assert await channel_posts(sessions, clock, channel) == []
    async with sessions() as session:
        assert await session.scalar(select(OutboxMessage.status)) == "expired"


async def test_two_buttons_of_one_statement_ask_the_next_one_once(
    team: dict[str, Person], sessions: async_sessionmaker[Any]
) -> None:
    """A second tap on the first statement (a stale copy) keeps the last score and asks
    nothing again; the second statement was asked once."""
    invitation = await open_session(team["lea"])
    anna = team["anna"].dm
    await anna.press_value(invitation.action)
    scale = anna.sent[-1]
    assert isinstance(scale, Scale)
    first = [option.value for option in scale.options]
    asked = await anna.press_value(first[3])  # "4"
    assert isinstance(asked[-1], FreeText)  # what goes well on it
    assert await anna.press_value(first[4]) == [Noted()]  # then "5" on the same condition
    assert [a.score for a in await stored(sessions)] == [5]
    asked = await anna.press(SKIP_NOTE)
    assert isinstance(asked[-1], Scale) and asked[-1].prompt.startswith("2/5")
    assert sum(isinstance(r, FreeText) for r in anna.sent) == 1


async def test_in_english_each_school_is_compared_and_the_notes_are_shown_from_five(
    engine: Engine, sessions: async_sessionmaker[Any], partnership: Partnership,
    clock: Clock, content: Content,
) -> None:
    team = await add_people(engine, sessions, partnership, clock, "lea", "anna", "bram",
                            "cem", "dirk", "eva", leader="lea", language="en")
    replies = await team["lea"].dm.say("reflection start")
    invitation = next(r for r in replies if isinstance(r, Invitation))
    notes = {"lea": "We plan <together>", "anna": "Short lines", "bram": "", "cem": "Trust",
             "dirk": "Clear goals", "eva": "Visits to the mbo"}
    for user, scores in (("lea", "4 4 4 4 4"), ("anna", "2 4 4 4 4"), ("bram", "4 4 4 4 4"),
                         ("cem", "2 4 4 4 4"), ("dirk", "5 4 4 4 4"), ("eva", "3 4 4 4 4")):
        person = team[user]
        replies = await person.dm.press_value(invitation.action)
        assert replies[-1].prompt.startswith(  # type: ignore[attr-defined]
            "1/5 · Shared ambition\nHow shared is the ambition among the partners?")
        for index, score in enumerate(scores.split()):
            labels = {"2": "so-so", "3": "fairly well", "4": "well", "5": "going very well"}
            [asked] = await person.dm.press(labels[score])
            assert isinstance(asked, FreeText) and asked.skip is not None
            if index == 0 and notes[user]:
                await person.dm.say(notes[user])
            else:
                await person.dm.press("Skip")
    [result] = await team["lea"].dm.say("reflection close")
    lines = result.text.splitlines()  # type: ignore[attr-defined]
    # Three people of each school: both are shown next to the total, with the difference.
    assert lines[1:3] == [
        content.text("reflection_row", "en", condition="Shared ambition", mean="3.3",
                     count=6, bar="███░░"),
        compare(content, [("Mbo College Kompas", "2.3", 3), ("Vmbo De Brug", "4.3", 3)],
                "2.0", "en")]
    # Five people wrote on shared ambition: their notes, sorted, without names.
    start = lines.index(content.text("reflection_notes_title", "en", minimum=5))
    assert lines[start + 1:start + 7] == [
        "Shared ambition:", "- Clear goals", "- Short lines", "- Trust",
        "- Visits to the mbo", "- We plan <together>"]
    assert lines[-1].endswith("scores highest: what goes well there, and why?")


async def test_a_school_of_two_is_never_shown_nor_left_to_work_out(
    engine: Engine, sessions: async_sessionmaker[Any], partnership: Partnership,
    clock: Clock, content: Content,
) -> None:
    # Alternating schools: De Brug gets lea, bram and dirk; Kompas anna and cem.
    team = await add_people(engine, sessions, partnership, clock, "lea", "anna", "bram",
                            "cem", "dirk", leader="lea")
    replies = await team["lea"].dm.say("reflectie start")
    invitation = next(r for r in replies if isinstance(r, Invitation))
    for user in team:
        await answer_all(team[user], invitation, "1 2 3 4 5", ["Goed"] * 4 + [""])
    [result] = await team["lea"].dm.say("reflectie sluit")
    text = result.text  # type: ignore[attr-defined]
    assert "per school" not in text and "Vmbo De Brug" not in text
    assert row(content, "ambition", "1,0", 5, "█░░░░") in text
    assert text.count("- Goed") == 4 * 5  # five notes on each of four conditions
    assert "Helder proces:\n" not in text  # nobody wrote on it


async def test_an_answer_counts_at_the_school_it_was_given_from(
    engine: Engine, sessions: async_sessionmaker[Any], partnership: Partnership,
    clock: Clock, content: Content,
) -> None:
    """Dirk answers for De Brug, then moves to Kompas: the comparison still counts his
    score at De Brug (three each), as the monthly summary counts an answer where it was
    given."""
    team = await add_people(engine, sessions, partnership, clock, "lea", "anna", "bram",
                            "cem", "dirk", "eva", leader="lea")
    invitation = await open_session(team["lea"])
    for user, scores in (("lea", "4 4 4 4 4"), ("anna", "2 4 4 4 4"), ("bram", "4 4 4 4 4"),
                         ("cem", "2 4 4 4 4"), ("dirk", "5 4 4 4 4"), ("eva", "3 4 4 4 4")):
        await answer_all(team[user], invitation, scores)
    async with sessions() as session, session.begin():
        people = {m.user_ref: m for m in await session.scalars(select(Member))}
        people[team["dirk"].user].school_id = people[team["anna"].user].school_id
    [result] = await team["lea"].group.say("reflectie sluit")
    lines = result.text.splitlines()  # type: ignore[attr-defined]
    assert lines[2] == compare(content, [("Mbo College Kompas", "2,3", 3),
                                         ("Vmbo De Brug", "4,3", 3)], "2,0")


async def test_the_migration_gives_old_answers_the_members_school_of_today(
    database_url: str,
) -> None:
    """Before 0021 a reflection answer did not keep its school: old rows get the member's
    school of the moment of the upgrade, the best that can be known."""
    engine = db.create_engine(database_url)
    await db.upgrade(engine, "0020_eight")
    now = datetime(2026, 10, 6, 13, tzinfo=UTC)
    async with engine.begin() as connection:
        await connection.execute(insert(Partnership.__table__).values(
            id=1, name="Oud", created_at=now))
        await connection.execute(insert(School.__table__).values(
            id=1, partnership_id=1, name="Kompas", type="mbo"))
        await connection.execute(insert(Member.__table__), [
            {"id": n, "partnership_id": 1, "platform": "test", "user_ref": f"u{n}",
             "display_name": "", "school_id": school, "role": "member", "language": "nl",
             "created_at": now} for n, school in ((1, 1), (2, None))])
        await connection.execute(insert(ReflectionSession.__table__).values(
            id=1, partnership_id=1, number=1, statement_ids=[], opened_at=now))
        await connection.execute(text(  # the columns of 0020, not of today's model
            "INSERT INTO reflection_answer (session_id, member_id, condition, statement_id,"
            " status, score, answered_at) VALUES (1, 1, 'ambition', 'ambition_2', 'scored',"
            " 4, :now), (1, 2, 'ambition', 'ambition_2', 'scored', 2, :now)"), {"now": now})
    await db.upgrade(engine)
    async with engine.connect() as connection:
        rows = (await connection.execute(text(
            "SELECT member_id, school_id FROM reflection_answer ORDER BY member_id"))).all()
    await engine.dispose()
    assert [tuple(row) for row in rows] == [(1, 1), (2, None)]


# One condition's answers: (school 0-2 or None, score 1-5 or None, wrote a note).
ANSWERS = st.lists(st.tuples(st.one_of(st.none(), st.integers(0, 2)),
                             st.one_of(st.none(), st.integers(1, 5)), st.booleans()),
                   min_size=1, max_size=14)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ANSWERS, st.integers(0, 14), st.integers(1, 5))
def test_no_post_shows_a_small_group_or_lets_a_late_answer_be_worked_out(
    answers: list[tuple[int | None, int | None, bool]], first: int, late: int
) -> None:
    """The first post is made after `first` people answered, the final one after `late`
    more. In every post each shown school has three or more scores and the schools not
    shown hold none or three or more (so no small school follows from the total); between
    the posts a number changes only with three more scores, schools and notes are shown
    once, and a total that stands from before never comes with schools."""
    first = min(first, len(answers))
    school_of = {school: f"School {school}" for school in range(3)}
    rows = [ReflectionAnswer(member_id=member, school_id=school, condition="ambition",
                             score=score, note=f"note {member}" if wrote else None)
            for member, (school, score, wrote) in enumerate(answers)]

    def check(found: list[Any]) -> None:
        for result in found:
            if result.mean is not None:
                assert result.respondents >= 3
            shown = sum(school.respondents for school in result.schools)
            assert all(school.respondents >= 3 for school in result.schools)
            rest = result.respondents - shown  # scores of schools not shown, and unknown
            assert shown == 0 or rest == 0 or rest >= 3
            assert not result.notes or len(result.notes) >= 5

    before = reflection_result.first_post(reflection_result.results(rows[:first], school_of, 3))
    check(before)
    shown = reflection_result.remember(before, first)
    after = reflection_result.final_results(
        reflection_result.results(rows[:first + late], school_of, 3), shown, 3)
    check(after)
    earlier, now = before[0], after[0]
    if now.mean is not None and not now.earlier and earlier.mean is not None:
        assert now.respondents - earlier.respondents >= 3
    if now.earlier:
        assert (now.respondents, now.mean) == (earlier.respondents, earlier.mean)
        assert now.schools == ()
    if earlier.schools:
        assert now.schools == ()
    if earlier.notes:
        assert now.notes == ()


async def test_each_question_shows_the_partnerships_latest_monthly_figure(
    engine: Engine, sessions: async_sessionmaker[Any], content: Content
) -> None:
    partners = await Partners.create(sessions)
    ids = await partners.members("vmbo", "teachers", 2) + await partners.members(
        "mbo", "teachers", 2)
    round_id = await partners.round(date(2026, 10, 6), ["ambition_1"])
    await partners.answer(round_id, "ambition_1", ids[:3], [4, 4, 5],
                          answered_at=datetime(2026, 10, 7, tzinfo=UTC))
    async with sessions() as session, session.begin():
        leader = await session.get(Member, ids[0])
        assert leader is not None
        leader.role = "leader"
        user = leader.user_ref
    dm = MemoryChat(engine, user=user, chat=f"dm-{user}")
    replies = await dm.say("reflectie start")
    invitation = next(r for r in replies if isinstance(r, Invitation))
    replies = await dm.press_value(invitation.action)
    assert isinstance(replies[-1], Scale)
    assert replies[-1].prompt.splitlines()[-1] == content.text(
        "reflection_latest", "nl", month=content.month_name(date(2026, 10, 1), "nl"),
        mean="4,3")
    await dm.press(LABELS["4"])
    replies = await dm.press(SKIP_NOTE)
    # Interests was not asked in October: no figure, so no line about it.
    assert isinstance(replies[-1], Scale) and "maandoverzicht" not in replies[-1].prompt

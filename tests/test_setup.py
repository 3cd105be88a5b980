"""`setup` in an unbound group: the wizard creates a partnership, binds the group and makes
the person who ran it the first project leader; a bound group refuses a second one."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.memory import MemoryChat
from bot.content import Content
from bot.demo import create_demo_partnership
from bot.engine import Engine
from bot.messages import FreeText, Invitation, Text
from bot.store import binding as bind_codes
from bot.store.models import ChannelBinding, Member, Partnership, School
from bot.store.setup import SetupDraft
from tests.conftest import Clock
from tests.slack_fakes import slack_rig

Sessions = async_sessionmaker[Any]


def group(engine: Engine, user: str = "lotte", chat: str = "new-group",
          locale: str | None = None) -> MemoryChat:
    return MemoryChat(engine, user=user, chat=chat, direct=False, locale=locale)


async def run_wizard(chat: MemoryChat, name: str = "Techniek Twente") -> list[Any]:
    """The whole wizard; the replies to `setup` and to the last answer."""
    replies = await until_language(chat, name)
    return replies + await chat.press("Nederlands")


async def until_language(chat: MemoryChat, name: str) -> list[Any]:
    """Every answer but the last (the language); the replies to `setup`."""
    replies = await chat.say("/setup")
    await chat.say(name)
    await chat.say("Techniek")
    await chat.say("Vmbo Het Anker")
    await chat.press("setup:type:vmbo")
    await chat.say("ROC Oost")
    await chat.press("setup:type:mbo")
    await chat.press("setup:more:yes")
    await chat.say("Praktijkschool De Steiger")
    await chat.say("3")  # typed: the third option, "iets anders"
    await chat.press("Nee, dit zijn ze")
    await chat.press("Noord")
    return replies


async def test_the_wizard_creates_binds_and_makes_a_leader(
    engine: Engine, sessions: Sessions
) -> None:
    chat = group(engine)
    replies = await run_wizard(chat)
    intro, ask_name, done = replies
    assert isinstance(intro, Text) and intro.public and "stop" in intro.text
    assert isinstance(ask_name, FreeText) and "Hoe heet" in ask_name.prompt
    assert isinstance(done, Invitation) and done.public
    assert "Techniek Twente" in done.text and "eerste projectleider" in done.text
    async with sessions() as session:
        [partnership] = list(await session.scalars(select(Partnership)))
        assert (partnership.name, partnership.sector, partnership.region,
                partnership.language) == ("Techniek Twente", "Techniek", "noord", "nl")
        assert [(s.name, s.type) for s in partnership.schools] == [
            ("Vmbo Het Anker", "vmbo"), ("ROC Oost", "mbo"),
            ("Praktijkschool De Steiger", "other")]
        binding = await session.scalar(select(ChannelBinding))
        assert binding is not None and (binding.channel_ref, binding.partnership_id) == (
            "new-group", partnership.id)
        leader = await session.scalar(select(Member))
        assert leader is not None and (leader.user_ref, leader.role) == ("lotte", "leader")
        assert await session.scalar(select(SetupDraft)) is None
    # The new leader continues privately, as any member: onboarding first.
    private = MemoryChat(engine, user="lotte", chat="dm-lotte")
    [welcome, *_] = await private.say("hoi")
    assert isinstance(welcome, Text) and "Techniek Twente" in welcome.text


async def test_a_bound_group_refuses_a_second_partnership(
    engine: Engine, sessions: Sessions
) -> None:
    await run_wizard(group(engine))
    again = group(engine, user="piet")
    [refused] = await again.say("setup")
    assert isinstance(refused, Text) and refused.public
    assert refused.text.startswith("Deze groep hoort al bij Techniek Twente")
    async with sessions() as session:
        assert len(list(await session.scalars(select(Partnership)))) == 1
        assert await session.scalar(select(SetupDraft)) is None


async def test_two_wizards_finishing_at_once_make_one_partnership(
    engine: Engine, sessions: Sessions
) -> None:
    """Two people set up a partnership in the same new group and answer the last question
    at the same moment: one wins, the other is told the group is taken (on PostgreSQL the
    turns truly overlap; SQLite takes them one after the other)."""
    lotte, piet = group(engine), group(engine, user="piet")
    await until_language(lotte, "Techniek Twente")
    await until_language(piet, "Techniek Oost")
    done = await asyncio.gather(lotte.press("Nederlands"), piet.press("Nederlands"))
    [[first], [second]] = done
    won, lost = (first, second) if isinstance(first, Invitation) else (second, first)
    assert isinstance(won, Invitation) and won.text.startswith("Klaar!")
    winner = "Techniek Twente" if won is first else "Techniek Oost"
    assert isinstance(lost, Text) and lost.public
    assert lost.text.startswith(f"Deze groep hoort al bij {winner}")
    async with sessions() as session:
        assert [p.name for p in await session.scalars(select(Partnership))] == [winner]
        assert len(list(await session.scalars(select(School)))) == 3
        [binding] = list(await session.scalars(select(ChannelBinding)))
        [leader] = list(await session.scalars(select(Member)))
        assert leader.user_ref == ("lotte" if won is first else "piet")
        assert leader.role == "leader" and binding.channel_ref == "new-group"
        assert await session.scalar(select(SetupDraft)) is None


async def test_a_group_bound_with_a_code_during_the_wizard_ends_it(
    engine: Engine, sessions: Sessions, clock: Clock
) -> None:
    chat = group(engine)
    await until_language(chat, "Techniek Twente")
    async with sessions() as session, session.begin():
        other = await create_demo_partnership(session, clock.now, "test", "elsewhere")
        code = await bind_codes.new_code(session, other.id, clock.now, timedelta(hours=1))
    [bound] = await group(engine, user="kees").say(f"koppel {code}")
    assert isinstance(bound, Invitation) and other.name in bound.text
    [refused] = await chat.press("Nederlands")
    assert isinstance(refused, Text) and refused.text.startswith(
        f"Deze groep hoort al bij {other.name}")
    async with sessions() as session:
        assert [p.name for p in await session.scalars(select(Partnership))] == [other.name]
        assert await session.scalar(select(SetupDraft)) is None


async def test_wrong_answers_are_asked_again_and_stop_ends_it(
    engine: Engine, sessions: Sessions
) -> None:
    chat = group(engine, locale="en-GB")
    await chat.say("setup")
    [again] = await chat.say("x")  # too short for a name
    assert isinstance(again, FreeText) and again.prompt == "What is your partnership called?"
    await chat.say("Zorg Zuid")
    await chat.say("-")
    await chat.say("Vmbo A")
    [pick] = await chat.say("something odd")
    assert isinstance(pick, Text) and "buttons" in pick.text
    [choice] = await chat.press_value("setup:region:zuid")  # a button of another step
    assert isinstance(choice, Text) and "buttons" in choice.text
    [stopped] = await chat.say("stop")
    assert isinstance(stopped, Text) and "nothing was created" in stopped.text
    async with sessions() as session:
        assert await session.scalar(select(Partnership)) is None
        assert await session.scalar(select(SetupDraft)) is None
    [stale] = await chat.press_value("setup:type:vmbo")
    assert isinstance(stale, Text) and "no longer running" in stale.text


async def test_others_in_the_group_are_not_part_of_someone_elses_wizard(
    engine: Engine, sessions: Sessions
) -> None:
    chat = group(engine)
    await chat.say("setup")
    bystander = group(engine, user="kees")
    [answer] = await bystander.say("Hallo allemaal")
    assert isinstance(answer, Text) and "samenwerkingsverband" in answer.text  # not linked
    async with sessions() as session:
        [draft] = list(await session.scalars(select(SetupDraft)))
        assert draft.user_ref == "lotte" and draft.data["step"] == "name"


async def test_setup_in_a_private_chat_points_to_the_group(engine: Engine,
                                                            content: Content) -> None:
    chat = MemoryChat(engine, user="lotte", chat="dm-lotte")
    assert await chat.say("setup") == [Text(text=content.text("setup_in_group", "nl"))]


async def test_setup_through_slack_with_the_answer_window(
    engine: Engine, sessions: Sessions
) -> None:
    async with slack_rig(engine) as slack:
        await slack.command("setup", channel="C7")
        for typed in ("Techniek Twente", "Techniek", "Vmbo Het Anker"):
            await slack.submit(typed, reference="C7")
        await slack.press("setup:type:vmbo", channel="C7")
        await slack.submit("ROC Oost", reference="C7")
        for value in ("setup:type:mbo", "setup:more:no", "setup:region:midden",
                      "setup:language:nl"):
            await slack.press(value, channel="C7")
        done = slack.fake.texts()[-1]
        assert done.startswith("Klaar! Techniek Twente is aangemaakt"), slack.fake.texts()
        await slack.command("setup", channel="C7", user="U2")
        assert slack.fake.texts()[-1].startswith("Deze groep hoort al bij Techniek Twente")
    async with sessions() as session:
        binding = await session.scalar(select(ChannelBinding))
        leader = await session.scalar(select(Member))
    assert binding is not None and binding.channel_ref == "T1:C7"
    assert leader is not None and (leader.user_ref, leader.role) == ("T1:U1", "leader")

"""Slack threads, mentions and pressed buttons, over real HTTP against the fake Slack: a
channel post with its details in its thread, people named with `<@USER>` (and nothing a
person typed turning into a ping), and a pressed question in a DM or an ephemeral
message showing the choice instead of its buttons, while a channel's buttons stay."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.slack.render import MENU
from bot.content import Content
from bot.engine import Engine
from bot.flows import commands
from bot.messages import (
    FIRST,
    Choice,
    FreeText,
    Image,
    Invitation,
    Mention,
    Option,
    Text,
    mention_mark,
)
from bot.store.models import Member, Partnership
from tests.conftest import Clock
from tests.slack_fakes import SlackRig, blocks_of, bound_rig, buttons_of, elements

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
async def slack(engine: Engine, partnership: Partnership, sessions: async_sessionmaker[Any],
                clock: Clock) -> AsyncIterator[SlackRig]:
    """The demo partnership with channel C1 of workspace T1 bound."""
    async with bound_rig(engine, partnership.id, sessions, clock.now) as rig:
        yield rig


def sections(blocks: list[dict[str, Any]]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section"]


async def test_details_go_in_the_thread_of_the_first_message(slack: SlackRig) -> None:
    await slack.adapter.send("T1:C1", [
        Invitation(text="Ronde 3 staat open", button="Doe mee", action="cmd:checkin"),
        Text(text="Al 4 mensen deden mee", thread_of=FIRST),
        Choice(prompt="Peiling", options=(Option("A", "cmd:help"),), thread_of=FIRST),
        Text(text="Tot volgende week"),
    ])
    opening, first, second, last = slack.fake.of("chat.postMessage")
    assert "thread_ts" not in opening.args and "thread_ts" not in last.args
    assert first.args["thread_ts"] == second.args["thread_ts"] == opening.result["ts"]
    # A thread named by the engine (from an incoming event) is used as it is.
    await slack.adapter.send("T1:C1", [Text(text="Nog 2 dagen", thread_of="7.000100")])
    assert slack.fake.of("chat.postMessage")[-1].args["thread_ts"] == "7.000100"


async def test_a_direct_message_threads_under_its_own_first_message(slack: SlackRig) -> None:
    await slack.adapter.send_direct("T1:U5", [Text(text="Je koffiepartner deze ronde"),
                                              Text(text="Een idee", thread_of=FIRST)])
    opening, idea = slack.fake.of("chat.postMessage")
    assert opening.args["channel"] == idea.args["channel"] == "DU5"
    assert idea.args["thread_ts"] == opening.result["ts"]


async def test_without_a_first_message_to_answer_a_reply_stands_on_its_own(
    slack: SlackRig
) -> None:
    await slack.adapter.send("T1:C1", [Image(png=PNG, caption="Overzicht"),
                                       Text(text="Toelichting", thread_of=FIRST)])
    [posted] = slack.fake.of("chat.postMessage")
    assert "thread_ts" not in posted.args


async def test_a_long_thread_reply_keeps_all_its_messages_in_the_thread(
    slack: SlackRig
) -> None:
    long = "\n".join(f"Regel {n}: " + "woord " * 80 for n in range(400))  # > 50 sections
    await slack.adapter.send("T1:C1", [Text(text="Samenvatting"),
                                       Text(text=long, thread_of=FIRST)])
    opening, *rest = slack.fake.of("chat.postMessage")
    assert len(rest) >= 2
    assert {call.args["thread_ts"] for call in rest} == {opening.result["ts"]}


async def test_mentions_link_people_and_typed_text_pings_nobody(slack: SlackRig) -> None:
    await slack.adapter.send("T1:C1", [Text(
        text=f"Koffie: {mention_mark(0)} en {mention_mark(1)} <!channel> & {mention_mark(2)}"
             f" {mention_mark(7)}",
        mentions=(Mention("T1:U2", "Anna"), Mention("U3", "Bob"),
                  Mention("T1:<!here>", "<!channel> Cem")))])
    [post] = slack.fake.of("chat.postMessage")
    assert sections(blocks_of(post)) == [
        "Koffie: <@U2> en <@U3> &lt;!channel&gt; &amp; &lt;!channel&gt; Cem "]
    assert post.args["text"] == sections(blocks_of(post))[0]  # the notification too


async def test_a_text_of_many_mentions_is_cut_between_them(slack: SlackRig) -> None:
    people = tuple(Mention(f"T1:U{n:08d}", f"Persoon {n}") for n in range(400))
    text = "".join(mention_mark(n) for n in range(len(people)))  # no space to cut at
    await slack.adapter.send("T1:C1", [Text(text=text, mentions=people)])
    shown = [s for call in slack.fake.of("chat.postMessage") for s in sections(blocks_of(call))]
    assert "".join(shown) == "".join(f"<@U{n:08d}>" for n in range(400))
    assert all(s.startswith("<@") and s.endswith(">") for s in shown)


async def test_a_question_pressed_in_the_dm_shows_the_choice_without_buttons(
    slack: SlackRig, content: Content
) -> None:
    await slack.dm("hoi")
    [question] = slack.fake.of("chat.postMessage")[-1:]
    await slack.press(buttons_of(question)["Vmbo De Brug"], channel="DU1")
    [update] = slack.fake.of("chat.update")
    assert (update.args["channel"], update.args["ts"]) == ("DU1", question.result["ts"])
    blocks = blocks_of(update)
    assert sections(blocks) == sections(blocks_of(question))  # the question stays
    assert [b["type"] for b in blocks if b["type"] == "actions"] == []
    assert blocks[-1]["elements"][0]["text"] == content.text("chosen", "nl",
                                                             choice="Vmbo De Brug")
    assert elements(slack.fake.shown[question.result["ts"]].blocks) == []


async def test_a_menu_pressed_in_the_dm_shows_the_option_chosen(
    slack: SlackRig, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock
) -> None:
    async with sessions() as session, session.begin():
        session.add(Member(partnership_id=partnership.id, platform="slack", user_ref="T1:U1",
                           level="teachers", language="en", school_id=partnership.schools[0].id,
                           onboarded_at=clock.now, created_at=clock.now))
    options = tuple(Option(f"Keuze {n}", f"pause:{n}") for n in range(1, 8))
    await slack.adapter.send_direct("T1:U1", [Choice(prompt="Hoe lang?", options=options)])
    [menu] = slack.fake.of("chat.postMessage")
    await slack.press("pause:3", channel="DU1", action_id=MENU)
    [update] = slack.fake.of("chat.update")
    assert update.args["ts"] == menu.result["ts"]
    assert blocks_of(update)[-1]["elements"][0]["text"] == "✓ You chose: Keuze 3"


async def test_an_ephemeral_question_is_replaced_through_the_response_url(
    slack: SlackRig, content: Content
) -> None:
    await slack.command("checkin")  # a newcomer: onboarding, privately in the channel
    question = slack.fake.of("chat.postEphemeral")[-1]
    await slack.press(buttons_of(question)["Vmbo De Brug"], channel="C1")
    [replaced] = slack.fake.of("respond")
    assert replaced.args["replace_original"] is True
    assert replaced.args["ts"] == question.result["message_ts"]
    assert blocks_of(replaced)[-1]["elements"][0]["text"] == content.text(
        "chosen", "nl", choice="Vmbo De Brug")
    assert elements(slack.fake.shown[question.result["message_ts"]].blocks) == []
    assert slack.fake.of("chat.update") == []


async def test_a_channels_buttons_stay_for_everyone(slack: SlackRig) -> None:
    await slack.adapter.send("T1:C1", [Invitation(text="Doe je mee?", button="Doe mee",
                                                  action="cmd:checkin")])
    [post] = slack.fake.of("chat.postMessage")
    await slack.press("cmd:checkin", user="U7", channel="C1")
    await slack.press("cmd:checkin", user="U8", channel="C1")
    assert {c.args["user"] for c in slack.fake.of("chat.postEphemeral")} == {"U7", "U8"}
    assert slack.fake.of("chat.update") == [] and slack.fake.of("respond") == []
    assert buttons_of(post) == {"Doe mee": "cmd:checkin"}
    assert elements(slack.fake.shown[post.result["ts"]].blocks) == [
        ("cmd:checkin", "Doe mee", 2000)]


async def test_the_type_answer_button_leaves_the_question_as_it_is(
    slack: SlackRig, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock
) -> None:
    async with sessions() as session, session.begin():
        session.add(Member(partnership_id=partnership.id, platform="slack", user_ref="T1:U1",
                           level="teachers", language="nl", school_id=partnership.schools[0].id,
                           onboarded_at=clock.now, created_at=clock.now))
    await slack.adapter.send_direct("T1:U1", [FreeText(prompt="Wat helpt?")])
    await slack.press("open", channel="DU1", action_id="achtje_open_answer")
    assert slack.fake.of("views.open") and slack.fake.of("chat.update") == []


async def test_a_press_that_failed_keeps_its_buttons_to_press_again(
    slack: SlackRig, sessions: async_sessionmaker[Any], partnership: Partnership,
    clock: Clock, content: Content, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with sessions() as session, session.begin():
        session.add(Member(partnership_id=partnership.id, platform="slack", user_ref="T1:U1",
                           level="teachers", language="nl", school_id=partnership.schools[0].id,
                           onboarded_at=clock.now, created_at=clock.now))
    await slack.adapter.send_direct("T1:U1", [Choice(prompt="Hoe lang pauzeren?", options=(
        Option("Een week", "pause:7"), Option("Twee weken", "pause:14")))])
    [question] = slack.fake.of("chat.postMessage")

    def broken(*_args: object) -> list[Text]:
        raise RuntimeError("the database went away")

    with monkeypatch.context() as patched:
        patched.setattr(commands, "set_pause", broken)
        await slack.press("pause:7", channel="DU1")
    assert slack.fake.posted()[-1].args["text"] == content.text("error", "nl")
    assert slack.fake.of("chat.update") == []
    assert elements(slack.fake.shown[question.result["ts"]].blocks) != []

    await slack.press("pause:7", channel="DU1")  # the same button again: now it works
    [update] = slack.fake.of("chat.update")
    assert blocks_of(update)[-1]["elements"][0]["text"] == "✓ Je koos: Een week"

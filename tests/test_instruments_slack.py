"""The five instruments in a Slack workspace: signed requests to the real app, the real
outbox sender for what the instruments post by themselves, and what people see in the
channel and privately (all against the local fake Slack)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.slack.render import OPEN_ANSWER, escape
from bot.content import Content
from bot.flows.instruments.matrix_table import row_steps
from bot.flows.instruments.talk_plate import questions
from bot.store.models import ChannelBinding, Member, Partnership
from scheduler.sender import Sender
from tests.conftest import Clock
from tests.instruments_fakes import assert_png
from tests.slack_fakes import Call, FakeSlack, SlackRig, blocks_of, buttons_of, slack_rig

CHANNEL = "C1"
TEAM = ("U1", "U2", "U3", "U4")  # U1 is the project leader
AGREE = {"1": "gaat niet goed", "2": "matig", "3": "redelijk", "4": "goed",
         "5": "gaat heel goed"}


@pytest.fixture
async def slack(
    engine: Any, partnership: Partnership, sessions: async_sessionmaker[Any], clock: Clock
) -> AsyncIterator[SlackRig]:
    """The team's channel C1 bound to the demo partnership, four onboarded members."""
    async with sessions() as session, session.begin():
        session.add(ChannelBinding(partnership_id=partnership.id, platform="slack",
                                   channel_ref=f"T1:{CHANNEL}", created_at=clock.now))
        for index, user in enumerate(TEAM):
            session.add(Member(
                partnership_id=partnership.id, platform="slack", user_ref=f"T1:{user}",
                display_name=f"Naam{user}", school_id=partnership.schools[index % 2].id,
                level="teachers", role="leader" if user == "U1" else "member",
                language="nl", onboarded_at=clock.now, created_at=clock.now))
    async with slack_rig(engine) as rig:
        yield rig


async def send_outbox(slack: SlackRig, sessions: async_sessionmaker[Any], clock: Clock) -> None:
    """What the running service's sender does a moment later."""
    await Sender(sessions, {"slack": slack.adapter}, clock=clock).send_due()


def text_of(call: Call) -> str:
    return "\n".join(block["text"]["text"] for block in blocks_of(call)
                     if block.get("type") == "section")


def channel_posts(fake: FakeSlack) -> list[Call]:
    """Messages everyone in the channel sees."""
    return [c for c in fake.of("chat.postMessage")
            if c.args["channel"] == CHANNEL and not c.failed]


def private_to(fake: FakeSlack, user: str) -> list[Call]:
    """What only `user` sees: ephemeral messages in the channel, and their DM."""
    return [c for c in fake.posted()
            if c.args.get("user") == user or c.args["channel"] == f"D{user}"]


def last_buttons_for(fake: FakeSlack, user: str) -> dict[str, str]:
    return buttons_of(private_to(fake, user)[-1])


def nobody_named(text: str) -> bool:
    return not any(user in text or f"Naam{user}" in text for user in TEAM)


def remember_ts(fake: FakeSlack) -> dict[int, str]:
    """The `ts` the fake gives each message it takes (by the id of the call's args): its
    calls do not keep the answers."""
    given: dict[int, str] = {}
    answer = fake._answer

    def answering(method: str, args: dict[str, Any], token: str | None, request: Any
                  ) -> dict[str, Any]:
        found = answer(method, args, token, request)
        if "ts" in found:
            given[id(args)] = found["ts"]
        return found

    fake._answer = answering  # type: ignore[method-assign]
    return given


async def press_on(slack: SlackRig, value: str, user: str, message_ts: str,
                   thread_ts: str | None = None) -> None:
    """A button pressed on a (non-ephemeral) channel message, maybe in a thread, with the
    `message` Slack sends along in block_actions."""
    message: dict[str, Any] = {"type": "message", "ts": message_ts, "user": "UBOT"}
    if thread_ts is not None:
        message["thread_ts"] = thread_ts
    payload = {
        "type": "block_actions", "api_app_id": "A1", "token": "legacy",
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T1"},
        "team": {"id": "T1", "domain": "school"}, "enterprise": None,
        "is_enterprise_install": False, "trigger_id": f"{time.time_ns()}.1.trigger",
        "container": {"type": "message", "message_ts": message_ts, "channel_id": CHANNEL,
                      "is_ephemeral": False},
        "channel": {"id": CHANNEL, "name": "samenwerking"}, "message": message,
        "response_url": "https://hooks.slack.invalid/actions/1",
        "actions": [{"action_id": "achtje_0", "block_id": "b1", "type": "button",
                     "value": value, "text": {"type": "plain_text", "text": "x"},
                     "action_ts": f"{time.time():.6f}"}],
    }
    await slack.post(urlencode({"payload": json.dumps(payload)}),
                     "application/x-www-form-urlencoded")


async def test_a_reflection_session_in_a_slack_channel(
    slack: SlackRig, sessions: async_sessionmaker[Any], clock: Clock, content: Content
) -> None:
    fake = slack.fake
    await slack.command("reflectie start", user="U1", channel=CHANNEL)
    [invitation] = channel_posts(fake)
    assert text_of(invitation) == escape(content.text("reflection_invite", "nl", number=1,
                                                      minimum=3))
    assert buttons_of(invitation) == {"Doe mee": "rj:1"}

    for user, scores in (("U2", "1 2 3 4 5"), ("U3", "2 2 4 4 5"), ("U4", "3 5 2 4 5")):
        await slack.press("rj:1", user=user, channel=CHANNEL)  # the channel's button
        for score in scores.split():
            value = last_buttons_for(fake, user)[AGREE[score]]
            await slack.press(value, user=user, channel=CHANNEL, ephemeral=True)
            value = last_buttons_for(fake, user)["Sla over"]  # nothing to add in words
            await slack.press(value, user=user, channel=CHANNEL, ephemeral=True)
        done = "reflection_done_shown" if user == "U4" else "reflection_done"  # the third
        assert text_of(private_to(fake, user)[-1]) == escape(content.text(done, "nl", minimum=3))
    # Every statement and answer was private: the channel still shows only the invitation.
    assert channel_posts(fake) == [invitation]
    assert {c.method for c in fake.posted() if c is not invitation} == {"chat.postEphemeral"}

    await send_outbox(slack, sessions, clock)
    [_, result] = channel_posts(fake)
    shown = text_of(result).splitlines()
    assert shown[0] == content.text("reflection_result_title", "nl", number=1, count=3)
    assert shown[1] == escape(content.text(
        "reflection_row", "nl", condition="Gedeelde ambitie", mean="2,0", count=3,
        bar="██░░░"))
    talk = shown.index(content.text("reflection_talk_about", "nl"))
    assert shown[talk + 1].startswith("- Gedeelde ambitie: ")
    assert shown[talk + 2].startswith("- Recht doen aan belangen: ")
    assert nobody_named(text_of(result))

    # The leader answers as fourth: posted once, so nothing new in the channel.
    await slack.press(buttons_of(invitation)["Doe mee"], user="U1", channel=CHANNEL)
    for _ in range(5):
        await slack.press(last_buttons_for(fake, "U1")["goed"], user="U1",
                          channel=CHANNEL, ephemeral=True)
        await slack.press(last_buttons_for(fake, "U1")["Sla over"], user="U1",
                          channel=CHANNEL, ephemeral=True)
    await send_outbox(slack, sessions, clock)
    assert len(channel_posts(fake)) == 2

    await slack.command("reflectie sluit", user="U1", channel=CHANNEL)
    closing = channel_posts(fake)[-1]
    assert text_of(closing) == escape(content.text("reflection_closed_shown", "nl", number=1,
                                                   count=4, minimum=3))


async def test_the_pitfalls_and_their_poll_in_a_slack_channel(
    slack: SlackRig, sessions: async_sessionmaker[Any], clock: Clock, content: Content
) -> None:
    fake = slack.fake
    names = [pitfall.name.nl for pitfall in content.pitfalls]
    await slack.command("valkuilen", user="U2", channel="DU2")  # browsing, privately
    assert list(last_buttons_for(fake, "U2")) == names
    await slack.press(last_buttons_for(fake, "U2")[names[2]], user="U2", channel="DU2")
    assert text_of(private_to(fake, "U2")[-1]).startswith("Valkuil 3")
    assert channel_posts(fake) == []

    await slack.command("valkuilen peiling", user="U1", channel=CHANNEL)
    [poll] = channel_posts(fake)
    assert text_of(poll) == content.text("poll_question", "nl", minimum=3)
    assert buttons_of(poll) == {name: f"pv:1:{n}" for n, name in enumerate(names, start=1)}
    for user, number in (("U2", 3), ("U3", 3), ("U4", 1)):
        await slack.press(f"pv:1:{number}", user=user, channel=CHANNEL)
        [thanks] = [c for c in private_to(fake, user) if c.method == "chat.postEphemeral"]
        assert text_of(thanks) == escape(content.text("poll_voted", "nl",
                                                      pitfall=names[number - 1]))
    await send_outbox(slack, sessions, clock)
    [_, result] = channel_posts(fake)
    lines = text_of(result).splitlines()
    assert lines[:3] == [
        content.text("poll_result_title", "nl", count=3),
        escape(content.text("poll_result_row", "nl", pitfall=names[2], count=2, bar="███░░")),
        escape(content.text("poll_result_row", "nl", pitfall=names[0], count=1, bar="██░░░")),
    ]
    assert nobody_named(text_of(result))

    await slack.press("pv:1:5", user="U1", channel=CHANNEL)  # a fourth vote: no new result
    await send_outbox(slack, sessions, clock)
    assert len(channel_posts(fake)) == 2
    await slack.command("valkuilen uitslag", user="U1", channel=CHANNEL)
    assert text_of(channel_posts(fake)[-1]) == escape(
        content.text("poll_closed_shown", "nl", count=4, minimum=3))


async def test_the_figure_eight_is_drawn_in_a_dm_and_shared_in_the_channel(
    slack: SlackRig, content: Content
) -> None:
    fake = slack.fake
    for user, scores in (("U2", ["matig", "nauwelijks"]), ("U3", ["goed", "matig"]),
                         ("U4", ["goed", "matig"])):
        await slack.dm("achtje", user=user)
        assert content.figure_eight.intro.nl in text_of(private_to(fake, user)[0])
        for score in scores:
            await slack.press(last_buttons_for(fake, user)[score], user=user,
                              channel=f"D{user}")
        assert text_of(private_to(fake, user)[-1]) == escape(
            content.text("eight_share_hint", "nl"))
    shared = fake.of("files.completeUploadExternal")
    assert [call.args["channel_id"] for call in shared] == ["DU2", "DU3", "DU4"]
    assert_png(fake.uploads[-1])
    assert channel_posts(fake) == []

    # The Stop button leaves the questions: a typed score is no rating afterwards.
    await slack.dm("achtje", user="U1")
    intro, _ = private_to(fake, "U1")[-2:]
    await slack.press(buttons_of(intro)["Stop"], user="U1", channel="DU1")
    assert text_of(private_to(fake, "U1")[-1]) == escape(content.text("eight_stopped", "nl"))

    await slack.command("achtje toon", user="U3", channel=CHANNEL)
    in_channel = fake.of("files.completeUploadExternal")[-1]
    assert in_channel.args["channel_id"] == CHANNEL
    assert_png(fake.uploads[-1])
    [weak_links] = channel_posts(fake)
    # The teachers' link across was rated 1, 2 and 2 by three people: median 2, weak.
    assert "Docenten, Vmbo De Brug en Mbo College Kompas: 2 (n=3)" in text_of(weak_links)
    assert nobody_named(text_of(weak_links))


async def test_the_impact_matrix_is_built_by_a_member_and_shown_to_the_channel(
    slack: SlackRig, partnership: Partnership, content: Content
) -> None:
    fake = slack.fake
    title = "Meeloopdagen voor <!channel> & *iedereen*"
    await slack.dm("matrix", user="U2")  # any member, not only the leader
    assert text_of(private_to(fake, "U2")[0]) == content.text("matrix_intro", "nl")
    await slack.dm(title, user="U2")
    for number, step in enumerate(row_steps(content), start=1):
        asked = text_of(private_to(fake, "U2")[-1])
        assert asked.startswith(f"Doel 1 · stap {number}/6 · {step.name.nl}")
        if step.id == "resources":
            await slack.press(last_buttons_for(fake, "U2")[content.text("matrix_skip", "nl")],
                              user="U2", channel="DU2")
        else:
            await slack.dm(f"Ons antwoord voor {step.name.nl}", user="U2")
    table = text_of(private_to(fake, "U2")[-2])
    assert table.startswith(escape(f"Doel 1 · {title}")) and "<!channel>" not in table
    assert "Ons antwoord voor De volgende stap" in table and channel_posts(fake) == []

    await slack.command("matrix toon", user="U3", channel=CHANNEL)
    [shown] = channel_posts(fake)
    assert text_of(shown).startswith(escape(content.text("matrix_plan_title", "nl",
                                                         partnership=partnership.name)))
    assert text_of(shown).endswith(table) and nobody_named(text_of(shown))


async def test_the_talk_plate_goes_on_in_the_thread_of_its_first_question(
    slack: SlackRig, sessions: async_sessionmaker[Any], clock: Clock, content: Content
) -> None:
    fake = slack.fake
    ts = remember_ts(fake)
    listed = questions(content.talk_plate)
    await slack.command("praatplaat", user="U2", channel=CHANNEL)
    [intro, first] = channel_posts(fake)
    assert text_of(intro) == content.text("talk_intro", "nl", total=len(listed))
    assert text_of(first).startswith(f"Praatplaat 1/{len(listed)}")
    assert "thread_ts" not in first.args and "thread_ts" not in intro.args
    root = ts[id(first.args)]

    await press_on(slack, buttons_of(first)["Volgende vraag"], "U3", message_ts=root)
    second = channel_posts(fake)[-1]
    assert text_of(second).startswith(f"Praatplaat 2/{len(listed)}")
    assert second.args["thread_ts"] == root
    await press_on(slack, buttons_of(second)["Volgende vraag"], "U4",
                   message_ts=ts[id(second.args)], thread_ts=root)
    third = channel_posts(fake)[-1]
    assert text_of(third).startswith(f"Praatplaat 3/{len(listed)}")
    assert third.args["thread_ts"] == root

    # U3 writes down what the team concluded, in Slack's answer window.
    await press_on(slack, buttons_of(third)["Uitkomst vastleggen"], "U3",
                   message_ts=ts[id(third.args)], thread_ts=root)
    prompt = private_to(fake, "U3")[-1]
    assert prompt.method == "chat.postEphemeral" and "Antwoord typen" in buttons_of(prompt)
    await slack.press("open", user="U3", channel=CHANNEL, ephemeral=True,
                      action_id=OPEN_ANSWER)
    await slack.submit("Minder uitval bij de overstap", reference=CHANNEL, user="U3")
    assert text_of(private_to(fake, "U3")[-1]) == content.text("talk_note_saved", "nl")
    await send_outbox(slack, sessions, clock)
    outcome = channel_posts(fake)[-1]
    assert text_of(outcome) == content.text("talk_outcome", "nl", topic="Urgentie",
                                            text="Minder uitval bij de overstap")
    assert outcome.args["thread_ts"] == root

    await press_on(slack, buttons_of(third)["Stoppen"], "U2", message_ts=ts[id(third.args)],
                   thread_ts=root)
    done = channel_posts(fake)[-1]
    assert text_of(done) == content.text("talk_done", "nl",
                                         outcomes="- Urgentie: Minder uitval bij de overstap")
    assert "thread_ts" not in done.args  # the summing up is for the whole channel
    assert all(nobody_named(text_of(c)) for c in channel_posts(fake))

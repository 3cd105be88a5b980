"""Slack over HTTP as a school lives it: signed requests in, Web API calls out (all local)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.slack.render import OPEN_ANSWER
from bot.content import Content
from bot.engine import Engine
from bot.messages import Text
from bot.store.models import Answer, Member, Partnership
from tests.conftest import Clock
from tests.slack_fakes import SlackRig, blocks_of, bound_rig, buttons_of, sign, view_of


@pytest.fixture
async def slack(
    engine: Engine, partnership: Partnership, sessions: async_sessionmaker[Any], clock: Clock
) -> AsyncIterator[SlackRig]:
    """The demo partnership with its Slack channel C1 of workspace T1 bound."""
    async with bound_rig(engine, partnership.id, sessions, clock.now) as rig:
        yield rig


def last_buttons(slack: SlackRig) -> dict[str, str]:
    return buttons_of(slack.fake.posted()[-1])


async def answers(sessions: async_sessionmaker[Any]) -> list[Answer]:
    async with sessions() as session:
        return list(await session.scalars(select(Answer).order_by(Answer.id)))


async def members(sessions: async_sessionmaker[Any]) -> list[Member]:
    async with sessions() as session:
        return list(await session.scalars(select(Member).order_by(Member.id)))


async def onboard_in_dm(slack: SlackRig, user: str = "U1") -> None:
    await slack.dm("hoi", user=user)
    for label in ("Vmbo De Brug", "Docenten", "Nederlands"):
        await slack.press(last_buttons(slack)[label], user=user, channel="D" + user)


async def test_a_newcomer_is_onboarded_with_buttons_in_a_dm(
    slack: SlackRig, sessions: async_sessionmaker[Any], content: Content
) -> None:
    slack.fake.users["U1"] = {"locale": "en-GB", "profile": {"display_name": "Anna"}}
    response = await slack.dm("hi")
    assert response.status == 200
    first = slack.fake.posted()
    assert [c.args["channel"] for c in first] == ["DU1", "DU1"]
    assert slack.fake.texts()[0].startswith("Welcome to achtje")  # her Slack locale
    # Her locale is not Dutch: the language comes first, then school and layer.
    assert list(last_buttons(slack)) == ["Nederlands (Dutch)", "English"]

    for label in ("English", "Mbo College Kompas", "Teachers"):
        await slack.press(last_buttons(slack)[label], channel="DU1")
    assert slack.fake.texts()[-1] == content.text("onboarded", "en")

    [member] = await members(sessions)
    assert (member.platform, member.user_ref, member.display_name) == ("slack", "T1:U1", "Anna")
    assert (member.level, member.language) == ("teachers", "en")
    assert member.onboarded_at is not None


async def test_a_whole_checkin_in_the_channel_stays_private(
    slack: SlackRig, sessions: async_sessionmaker[Any], content: Content
) -> None:
    """/achtje checkin by a newcomer: onboarding first, then the round, all ephemeral."""
    response = await slack.command("checkin")
    assert (response.status, await response.text()) == (200, "")
    for label in ("Vmbo De Brug", "Docenten", "Nederlands"):
        await slack.press(last_buttons(slack)[label], channel="C1", ephemeral=True)
    assert slack.fake.texts()[-1].startswith("1/6")  # carried on where she was

    await slack.press(last_buttons(slack)["mee oneens"], channel="C1", ephemeral=True)
    followup = slack.fake.posted()[-1]
    assert list(buttons_of(followup)) == ["Antwoord typen", "Overslaan"]

    await slack.press("open", channel="C1", ephemeral=True, action_id=OPEN_ANSWER)
    [opened] = slack.fake.of("views.open")
    modal = view_of(opened)
    assert modal["private_metadata"] == "C1"
    assert modal["blocks"][0]["element"]["max_length"] == 1000

    await slack.submit("Vaker samen de plannen bespreken", reference="C1")
    assert slack.fake.texts()[-2:][0] == content.text("followup_thanks", "nl")
    assert slack.fake.texts()[-1].startswith("2/6")
    for label in ("helemaal mee eens", "weet ik niet", "neutraal", "neutraal", "neutraal"):
        await slack.press(last_buttons(slack)[label], channel="C1", ephemeral=True)
    assert slack.fake.texts()[-1] == content.text("checkin_done", "nl")

    stored = await answers(sessions)
    assert [(a.status, a.score) for a in stored] == [
        ("scored", 2), ("scored", 5), ("dont_know", None), ("scored", 3), ("scored", 3),
        ("scored", 3)]
    assert stored[0].comment == "Vaker samen de plannen bespreken"
    assert slack.fake.of("chat.postMessage") == []  # the channel saw nothing
    assert {(c.args["channel"], c.args["user"]) for c in slack.fake.posted()} == {("C1", "U1")}


async def test_an_answer_can_be_changed_and_stays_one_row(
    slack: SlackRig, sessions: async_sessionmaker[Any], content: Content
) -> None:
    await onboard_in_dm(slack)
    await slack.command("checkin", channel="DU1")
    for label in ("mee eens", "mee eens", "neutraal", "mee eens", "mee eens", "mee eens"):
        await slack.press(last_buttons(slack)[label], channel="DU1")
    await slack.dm("checkin")
    assert slack.fake.texts()[-1] == content.text("checkin_already_done", "nl")
    # Six statements to choose from: more than fit as buttons, so a menu.
    [menu] = [e for block in blocks_of(slack.fake.posted()[-1])
              for e in block.get("elements", []) if e.get("type") == "static_select"]
    third = menu["options"][2]["value"]
    await slack.press(third, channel="DU1")
    await slack.press(last_buttons(slack)["helemaal mee eens"], channel="DU1")
    assert [a.score for a in await answers(sessions)] == [4, 4, 5, 4, 4, 4]


@pytest.mark.parametrize("how", ["unsigned", "forged", "stale"])
async def test_unsigned_forged_or_stale_requests_get_401_and_change_nothing(
    slack: SlackRig, sessions: async_sessionmaker[Any], how: str
) -> None:
    body = json.dumps({"type": "event_callback", "team_id": "T1", "event_id": "Ev1",
                       "event": {"type": "message", "channel_type": "im", "channel": "DU1",
                                 "user": "U1", "text": "hoi", "ts": "1.1"}})
    headers = {
        "unsigned": {},
        "forged": sign(body, secret="not-the-secret"),
        "stale": sign(body, timestamp=int(time.time()) - 6 * 60),
    }[how]
    response = await slack.http.post(f"{slack.web.url}/slack/events", data=body,
                                     headers={"Content-Type": "application/json", **headers})
    assert response.status == 401
    await slack.adapter.settled()
    assert slack.fake.calls == []
    assert await members(sessions) == []


async def test_a_retried_event_is_answered_once(
    slack: SlackRig, sessions: async_sessionmaker[Any]
) -> None:
    await slack.dm("hoi", event_id="Ev42")
    shown = len(slack.fake.posted())
    response = await slack.dm("hoi", event_id="Ev42", retry=1)
    assert response.status == 200
    assert len(slack.fake.posted()) == shown == 2
    assert len(await members(sessions)) == 1


async def test_a_double_click_stores_one_answer(
    slack: SlackRig, sessions: async_sessionmaker[Any]
) -> None:
    await onboard_in_dm(slack)
    await slack.dm("checkin")
    button = last_buttons(slack)["neutraal"]
    await slack.press(button, channel="DU1")
    await slack.press(button, channel="DU1")
    assert [a.score for a in await answers(sessions)] == [3]


async def test_a_429_is_waited_out_and_the_message_arrives_once(
    slack: SlackRig, content: Content
) -> None:
    await onboard_in_dm(slack)
    slack.fake.fail_next("chat.postMessage", status=429, retry_after=1)
    before = len(slack.fake.of("chat.postMessage"))
    await slack.dm("privacy")
    attempts = slack.fake.of("chat.postMessage")[before:]
    assert [a.failed for a in attempts] == [True, False]
    assert attempts[1].at - attempts[0].at >= 1.0  # Retry-After was honoured
    assert sum(text.startswith("Ik bewaar je school") for text in slack.fake.texts()) == 1


async def test_names_and_typed_text_cannot_ping_a_channel(
    slack: SlackRig, sessions: async_sessionmaker[Any], partnership: Partnership
) -> None:
    async with sessions() as session, session.begin():
        shown = await session.get(Partnership, partnership.id)
        assert shown is not None
        shown.name = "<!channel> & <@U2>"
    slack.fake.users["U1"] = {"profile": {"display_name": "<!here>"}}
    await slack.command("help")
    everything = json.dumps([c.args for c in slack.fake.posted()])
    assert "<!channel>" not in everything and "<@U2>" not in everything
    assert "&lt;!channel&gt; &amp; &lt;@U2&gt;" in slack.fake.texts()[0]

    await slack.command("hoi")
    for label in ("Vmbo De Brug", "Docenten", "Nederlands"):
        await slack.press(last_buttons(slack)[label], channel="C1", ephemeral=True)
    await slack.press("cmd:checkin", channel="C1", ephemeral=True)
    await slack.press(last_buttons(slack)["helemaal mee oneens"], channel="C1", ephemeral=True)
    # Slack escapes what people type; the engine gets (and stores) it as typed.
    await slack.dm("&lt;!channel&gt; meer tijd &amp; rust")
    [member] = await members(sessions)
    assert member.display_name == "<!here>"
    assert (await answers(sessions))[0].comment == "<!channel> meer tijd & rust"


@pytest.mark.parametrize("event", [
    {"subtype": "bot_message", "bot_id": "B2", "text": "beep"},
    {"bot_id": "BBOT", "user": "UBOT", "text": "my own words"},
    {"subtype": "message_changed", "message": {"text": "checkin"}},
    {"subtype": "message_deleted"},
    {"channel_type": "channel", "channel": "C1", "text": "checkin"},
])
async def test_bot_messages_edits_and_channel_chatter_are_ignored(
    slack: SlackRig, sessions: async_sessionmaker[Any], event: dict[str, Any]
) -> None:
    message = {"type": "message", "channel": "DU1", "user": "U1", "channel_type": "im",
               "ts": "1.000100", **event}
    response = await slack.event(message)
    assert response.status == 200
    assert slack.fake.posted() == [] and await members(sessions) == []


async def test_the_home_tab_shows_the_members_settings(
    slack: SlackRig, sessions: async_sessionmaker[Any]
) -> None:
    await onboard_in_dm(slack)
    await slack.dm("checkin")
    await slack.press(last_buttons(slack)["mee eens"], channel="DU1")
    await slack.event({"type": "app_home_opened", "user": "U1", "channel": "DU1",
                       "tab": "home"})
    [published] = slack.fake.of("views.publish")
    assert published.args["user_id"] == "U1"
    shown = json.dumps(view_of(published)["blocks"], ensure_ascii=False)
    for expected in ("Vmbo De Brug", "Docenten", "Nederlands", "geen pauze",
                     "Je hebt 1 van de 6 stellingen beantwoord"):
        assert expected in shown


async def test_a_newcomer_starts_from_the_home_tab(
    slack: SlackRig, sessions: async_sessionmaker[Any]
) -> None:
    await slack.event({"type": "app_home_opened", "user": "U2", "channel": "DU2",
                       "tab": "home"})
    view = view_of(slack.fake.of("views.publish")[0])
    start = view["blocks"][-1]["elements"][0]
    assert (start["text"]["text"], start["value"]) == ("Kennismaken", "cmd:hoi")
    await slack.press(start["value"], user="U2", channel=None)
    assert slack.fake.of("conversations.open")[-1].args["users"] == "U2"
    assert slack.fake.posted()[0].args["channel"] == "DU2"
    assert slack.fake.texts()[0].startswith("Welkom bij achtje")


async def test_no_ephemeral_possible_goes_to_the_dm_not_the_channel(
    slack: SlackRig, content: Content
) -> None:
    slack.fake.fail_next("chat.postEphemeral", "not_in_channel")
    await slack.command("privacy", channel="C9")
    [dm] = slack.fake.posted()
    assert dm.method == "chat.postMessage" and dm.args["channel"] == "DU1"


async def test_a_refused_message_gets_a_short_apology(
    slack: SlackRig, content: Content, caplog: pytest.LogCaptureFixture
) -> None:
    slack.fake.fail_next("chat.postMessage", "invalid_blocks")
    with caplog.at_level(logging.ERROR, logger="adapters.slack.app"):
        await slack.dm("help")
    assert slack.fake.texts() == [content.text("error", "nl")]
    assert "invalid_blocks" in caplog.text and "T1:U1" in caplog.text


async def test_the_scale_is_one_row_of_buttons_with_opaque_values(
    slack: SlackRig,
) -> None:
    await onboard_in_dm(slack)
    await slack.dm("checkin")
    actions = [b for b in blocks_of(slack.fake.posted()[-1]) if b["type"] == "actions"]
    [row] = actions
    labels = [e["text"]["text"] for e in row["elements"]]
    assert labels == ["helemaal mee oneens", "mee oneens", "neutraal", "mee eens",
                      "helemaal mee eens", "weet ik niet", "overslaan"]
    assert len({e["action_id"] for e in row["elements"]}) == 7
    assert all(e["value"].startswith("s:") for e in row["elements"])


async def test_an_uninstall_in_single_workspace_mode_is_logged(
    slack: SlackRig, caplog: pytest.LogCaptureFixture, sessions: async_sessionmaker[Any]
) -> None:
    with caplog.at_level(logging.WARNING, logger="adapters.slack.app"):
        response = await slack.event({"type": "app_uninstalled"})
    assert response.status == 200
    assert "removed from Slack workspace T1" in caplog.text
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Member)) == 0


async def test_a_mention_in_a_channel_is_answered_as_the_slash_command(
    slack: SlackRig, sessions: async_sessionmaker[Any]
) -> None:
    """"@achtje help" in a channel gets what `/achtje help` there gets, in the same place
    (manifest.yml subscribes `app_mention`: tests/test_slack_manifest.py)."""
    await onboard_in_dm(slack)
    before = len(slack.fake.calls)
    await slack.command("help", channel="C1")
    by_command = [(c.method, c.args.get("channel"), c.args.get("user"), c.args.get("text"))
                  for c in slack.fake.calls[before:] if c.method.startswith("chat.")]
    assert by_command and by_command[0][1] == "C1"

    before = len(slack.fake.calls)
    response = await slack.event({"type": "app_mention", "channel": "C1", "user": "U1",
                                  "text": "<@UBOT> help", "ts": f"{time.time():.6f}"})
    assert response.status == 200
    by_mention = [(c.method, c.args.get("channel"), c.args.get("user"), c.args.get("text"))
                  for c in slack.fake.calls[before:] if c.method.startswith("chat.")]
    assert by_mention == by_command


async def test_replies_and_scheduled_posts_reuse_a_few_connections(slack: SlackRig) -> None:
    """One HTTP session per process: not a new connection (against Slack a TLS handshake)
    per Web API call."""
    slack.fake.connections.clear()
    first = len(slack.fake.calls)
    await onboard_in_dm(slack)
    for number in range(3):
        await slack.adapter.send("T1:C1", [Text(text=f"bericht {number}")])
    calls = len(slack.fake.calls) - first
    assert calls >= 10
    assert 1 <= len(slack.fake.connections) <= 2

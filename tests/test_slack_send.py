"""What the scheduler can ask of Slack through the Adapter protocol, and the setup handshake."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.engine import Engine
from bot.messages import FIRST, Image, Invitation, Text, Unreachable
from bot.store.binding import new_code
from bot.store.models import ChannelBinding, Member, Partnership
from tests.conftest import Clock
from tests.slack_fakes import SlackRig, blocks_of, buttons_of, slack_rig
from tests.test_telegram_delivery import send_as_outbox_row

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
async def slack(engine: Engine, partnership: Partnership) -> AsyncIterator[SlackRig]:
    async with slack_rig(engine) as rig:
        yield rig


async def test_an_image_goes_through_the_files_upload_v2_flow(slack: SlackRig) -> None:
    await slack.adapter.send("T1:C1", [Image(png=PNG, caption="Overzicht <maart>",
                                             thread_of="1.000100")])
    methods = [c.method for c in slack.fake.calls]
    assert methods == ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]
    assert slack.fake.uploads == [PNG]
    complete = slack.fake.of("files.completeUploadExternal")[0].args
    assert (complete["channel_id"], complete["thread_ts"]) == ("C1", "1.000100")
    assert complete["initial_comment"] == "Overzicht &lt;maart&gt;"


async def test_a_round_post_and_its_thread_reply_and_an_edit(slack: SlackRig) -> None:
    await slack.adapter.send("T1:C1", [
        Invitation(text="Ronde 2 staat open", button="Doe mee", action="cmd:checkin"),
        Text(text="Al 5 mensen deden mee", thread_of="1.000100"),
        Text(text="Ronde 2 is gesloten", edit_of="1.000100"),
    ])
    first, second = slack.fake.of("chat.postMessage")
    assert buttons_of(first) == {"Doe mee": "cmd:checkin"}
    assert (second.args["channel"], second.args["thread_ts"]) == ("C1", "1.000100")
    [edit] = slack.fake.of("chat.update")
    assert (edit.args["channel"], edit.args["ts"]) == ("C1", "1.000100")
    assert blocks_of(edit)[0]["text"]["text"] == "Ronde 2 is gesloten"


async def test_a_post_that_fails_halfway_sends_only_the_missing_part_later(
    slack: SlackRig, sessions: async_sessionmaker[Any], clock: Clock
) -> None:
    """The note went out, then Slack asked to slow down for the chart: a 429 means Slack
    took nothing, so the chart goes later, in the note's thread, and the note never
    twice. The scheduled path does not wait out the 429 inside the call."""
    slack.fake.fail_next("files.getUploadURLExternal", status=429, retry_after=0)
    status = await send_as_outbox_row(sessions, clock, slack.adapter, "T1:C1", [
        Text(text="Tijd voor koffie"), Image(png=PNG, caption="Overzicht", thread_of=FIRST)])
    assert status == "sent"
    assert [c.args["text"] for c in slack.fake.posted()] == ["Tijd voor koffie"]
    [note] = slack.fake.posted()
    assert [c.failed for c in slack.fake.of("files.getUploadURLExternal")] == [True, False]
    [complete] = slack.fake.of("files.completeUploadExternal")
    assert complete.args["thread_ts"] == note.result["ts"]
    assert note.args["metadata"]["event_type"] == "achtje_outbox"


async def test_a_private_reply_is_never_posted_to_a_channel(slack: SlackRig) -> None:
    await slack.adapter.send("T1:C1", [Text(text="jouw score", private=True)])
    assert slack.fake.posted() == []


async def test_an_invitation_pressed_in_the_channel_is_answered_privately(
    slack: SlackRig,
) -> None:
    await slack.adapter.send("T1:C1", [Invitation(text="Doe je mee?", button="Doe mee",
                                                  action="cmd:checkin")])
    await slack.press("cmd:checkin", user="U7", channel="C1")
    welcome = slack.fake.posted()[1:]
    assert welcome and all(c.method == "chat.postEphemeral" for c in welcome)
    assert {c.args["user"] for c in welcome} == {"U7"}


async def test_a_deactivated_member_is_marked_unreachable_without_retrying(
    slack: SlackRig, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock
) -> None:
    async with sessions() as session, session.begin():
        session.add(Member(partnership_id=partnership.id, platform="slack", user_ref="T1:U3",
                           level="teachers", onboarded_at=clock.now, created_at=clock.now))
    slack.fake.fail_next("chat.postMessage", "account_inactive")
    with pytest.raises(Unreachable):
        await slack.adapter.send_direct("T1:U3", [Text(text="Ronde 2 staat open")])
    assert len(slack.fake.of("chat.postMessage")) == 1
    async with sessions() as session:
        member = await session.scalar(select(Member).where(Member.user_ref == "T1:U3"))
    assert member is not None and member.unreachable_at == clock.now


async def test_a_channel_the_bot_left_is_unreachable(slack: SlackRig) -> None:
    slack.fake.fail_next("chat.postMessage", "not_in_channel")
    with pytest.raises(Unreachable):
        await slack.adapter.send("T1:C1", [Text(text="Ronde 2 staat open")])


async def test_slacks_url_check_is_answered(slack: SlackRig) -> None:
    challenge = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    body = json.dumps({"token": "legacy", "challenge": challenge, "type": "url_verification"})
    response = await slack.post(body, "application/json")
    assert response.status == 200
    assert challenge in await response.text()


async def test_a_channel_is_bound_with_a_code_and_told_so_in_public(
    slack: SlackRig, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock
) -> None:
    async with sessions() as session, session.begin():
        code = await new_code(session, partnership.id, clock.now, timedelta(days=1))
    await slack.command(f"koppel {code}", channel="C5")
    [told] = slack.fake.posted()
    assert (told.method, told.args["channel"]) == ("chat.postMessage", "C5")
    assert "cmd:start" in buttons_of(told).values()
    async with sessions() as session:
        bound = await session.scalar(select(ChannelBinding.channel_ref).where(
            ChannelBinding.platform == "slack"))
    assert bound == "T1:C5"

    # Pressing the channel's start button begins onboarding for that person only.
    await slack.press("cmd:start", user="U4", channel="C5")
    assert {(c.method, c.args.get("user")) for c in slack.fake.posted()[1:]} == {
        ("chat.postEphemeral", "U4")}


async def test_a_public_answer_where_achtje_was_not_invited_reaches_the_person(
    slack: SlackRig, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock
) -> None:
    async with sessions() as session, session.begin():
        code = await new_code(session, partnership.id, clock.now, timedelta(days=1))
    slack.fake.fail_next("chat.postMessage", "not_in_channel")
    await slack.command(f"koppel {code}", channel="C5")
    attempts = slack.fake.of("chat.postMessage")
    assert [(a.args["channel"], a.failed) for a in attempts] == [("C5", True), ("DU1", False)]
    async with sessions() as session:
        member = await session.scalar(select(Member))
    assert member is None or member.unreachable_at is None

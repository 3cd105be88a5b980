"""Sending through the Telegram adapter as the scheduler does (`send`, `send_direct`), what
Telegram's refusals turn into, and the adapter started by the service from its settings."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.telegram import TelegramAdapter, build
from adapters.web import WebServer
from bot.content import Content
from bot.engine import Engine
from bot.messages import (
    Adapter,
    Choice,
    DeliveryError,
    Image,
    Option,
    Reply,
    RetryLater,
    Text,
    Unreachable,
)
from bot.outbox import Envelope, enqueue
from bot.service import serve
from bot.settings import Settings, SettingsError
from bot.store.models import ChannelBinding, Member, Partnership
from bot.store.schedule import OutboxMessage
from scheduler.sender import Sender
from tests.conftest import Clock
from tests.telegram_fakes import ANNA, GROUP, Bot, FakeTelegram, running
from tests.test_telegram import bind_group, known_member

ODD = "Let op: <b>vet</b> *ster* _laag_ [link](x) `code` \\ \u202eomgekeerd\u202c 🇳🇱 e\u0301"


@pytest.fixture
async def bot(engine: Engine, partnership: Partnership) -> AsyncIterator[Bot]:
    async for started in running(engine, "polling"):
        yield started


async def test_long_text_with_emoji_arrives_whole_in_pieces_telegram_accepts(bot: Bot
                                                                             ) -> None:
    long = ("Samen sterk 💪🏽 👩‍🏫 " * 600)[:10_000].strip()
    await bot.adapter.send_direct(str(ANNA.id), [Text(text=long), Text(text=ODD)])
    sent = [c.text for c in bot.fake.sent(ANNA.id)]
    assert len(sent) > 3 and sent[-1] == ODD  # as typed: no parse mode, nothing escaped
    assert all(len(piece.encode("utf-16-le")) // 2 <= 4096 for piece in sent)
    assert " ".join(sent[:-1]) == long
    assert all("parse_mode" not in c.params for c in bot.fake.sent())


async def test_an_image_goes_as_a_photo_with_its_caption(bot: Bot) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    await bot.adapter.send(str(GROUP), [Image(png=png, caption="Overzicht november")])
    [photo] = bot.fake.called("sendPhoto")
    assert (photo.chat, photo.params["photo"], photo.text) == (GROUP, png, "Overzicht november")


async def test_a_button_value_too_long_for_telegram_travels_by_short_id(
    bot: Bot, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock,
    content: Content
) -> None:
    await known_member(sessions, partnership, clock)
    long_value = "cmd:privacy " + "ë" * 40  # 52 characters, 92 bytes
    await bot.adapter.send(str(ANNA.id), [Choice(prompt="Kies", options=(
        Option("Privacy", long_value), Option("Kort", "cmd:help")))])
    [choice] = bot.fake.sent(ANNA.id)
    data = [row[0]["callback_data"] for row in choice.buttons]
    assert data[1] == "cmd:help" and len(data[0].encode()) <= 64 and data[0] != long_value
    calls = await bot.press(ANNA, "Privacy")
    assert [c.text for c in calls if c.method == "sendMessage"] == [
        content.text("privacy_short", "nl", answer_months=24, text_months=3)]


async def send_as_outbox_row(sessions: async_sessionmaker[Any], clock: Clock, adapter: Adapter,
                             target: str, replies: Sequence[Reply]) -> str:
    """Queue the replies as one channel post of a nudge round and let the sender try it
    twice; the row's status after that."""
    async with sessions() as session, session.begin():
        partnership = await session.scalar(select(Partnership))
        assert partnership is not None
        await enqueue(session, [Envelope(
            "nudge", partnership.id, "channel", clock.now.date(), adapter.platform, target,
            False, tuple(replies), clock.now, clock.now + timedelta(hours=3))], clock.now)
    sender = Sender(sessions, {adapter.platform: adapter}, clock=clock)
    await sender.send_due()
    clock.advance(hours=1)
    await sender.send_due()
    async with sessions() as session:
        [row] = await session.scalars(select(OutboxMessage))
        return row.status


async def test_a_post_that_fails_halfway_sends_only_the_missing_part_later(
    bot: Bot, sessions: async_sessionmaker[Any], clock: Clock
) -> None:
    """The note went out, the chart was refused (so it certainly did not arrive): the
    chart goes later, the note is not repeated."""
    bot.fake.fail_next("sendPhoto")
    status = await send_as_outbox_row(sessions, clock, bot.adapter, str(GROUP), [
        Text(text="Tijd voor koffie"), Image(png=b"\x89PNG\r\n\x1a\n", caption="Overzicht")])
    assert status == "sent"
    assert [c.text for c in bot.fake.sent(GROUP, {"sendMessage"})] == ["Tijd voor koffie"]
    assert len(bot.fake.sent(GROUP, {"sendPhoto"})) == 2  # refused once, then shown


async def test_a_post_refused_before_anything_went_out_is_tried_again(
    bot: Bot, sessions: async_sessionmaker[Any], clock: Clock
) -> None:
    bot.fake.fail_next("sendMessage")
    status = await send_as_outbox_row(sessions, clock, bot.adapter, str(GROUP),
                                      [Text(text="Tijd voor koffie")])
    assert status == "sent"
    assert [c.text for c in bot.fake.sent(GROUP, {"sendMessage"})] == ["Tijd voor koffie"] * 2


async def test_flood_control_is_waited_out_then_reported(bot: Bot) -> None:
    bot.fake.flood[ANNA.id] = [1]
    await bot.adapter.send(str(ANNA.id), [Text(text="een")])
    assert [c.text for c in bot.fake.sent(ANNA.id)] == ["een", "een"]  # refused, then taken
    bot.fake.flood[ANNA.id] = [1, 2]  # the adapter retries once, then gives it back
    with pytest.raises(RetryLater) as raised:
        await bot.adapter.send(str(ANNA.id), [Text(text="twee")])
    assert raised.value.retry_after == 2


async def test_a_blocked_person_is_unreachable_and_marked(
    bot: Bot, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock
) -> None:
    await known_member(sessions, partnership, clock)
    bot.fake.blocked.add(ANNA.id)
    with pytest.raises(Unreachable):
        await bot.adapter.send_direct(str(ANNA.id), [Text(text="hoi")])
    assert len(bot.fake.sent(ANNA.id)) == 1
    async with sessions() as session:
        marked = await session.scalar(select(Member.unreachable_at))
    assert marked == clock.now


async def test_a_message_to_a_migrated_group_follows_it_once(
    bot: Bot, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock
) -> None:
    await bind_group(sessions, partnership, clock, -42)
    bot.fake.migrated[-42] = GROUP
    await bot.adapter.send("-42", [Text(text="een"), Text(text="twee")])
    assert [c.text for c in bot.fake.sent(GROUP)] == ["een", "twee"]
    async with sessions() as session:
        refs = list(await session.scalars(select(ChannelBinding.channel_ref).where(
            ChannelBinding.platform == "telegram")))
    assert refs == [str(GROUP)]
    bot.fake.migrated[GROUP] = -43  # migrated again while we send: no endless chase
    bot.fake.migrated[-43] = -44
    with pytest.raises(DeliveryError) as raised:
        await bot.adapter.send(str(GROUP), [Text(text="drie")])
    assert type(raised.value) is DeliveryError  # not worth retrying by itself


async def test_an_unreachable_api_means_try_later(bot: Bot) -> None:
    await bot.fake.stop()
    with pytest.raises(RetryLater):
        await bot.adapter.send(str(ANNA.id), [Text(text="hoi")])


async def test_the_service_runs_telegram_from_the_environment(
    database_url: str, content: Content, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake = FakeTelegram()
    await fake.start()
    monkeypatch.chdir(tmp_path)  # no stray .env
    for key, value in {"TELEGRAM_BOT_TOKEN": fake.token, "ACHTJE_TELEGRAM_API_URL": fake.url,
                       "ACHTJE_DATABASE_URL": database_url, "SLACK_BOT_TOKEN": ""}.items():
        monkeypatch.setenv(key, value)
    stop = asyncio.Event()
    service = asyncio.create_task(serve(Settings(), content, stop))
    try:
        await fake.wait_for(lambda: fake.called("getUpdates"), "polling started")
        fake.queue(fake.text_update(ANNA, ANNA.id, "/privacy"))
        [said] = await fake.wait_for(lambda: fake.sent(ANNA.id), "an answer")
        assert said.text == content.text("not_linked", "nl")  # an empty database
    finally:
        stop.set()
        await service
        await fake.stop()


async def test_a_refused_token_stops_the_start_with_a_clear_message(engine: Engine) -> None:
    fake = FakeTelegram()
    await fake.start()
    adapter = TelegramAdapter(engine, "999:wrong", api_url=fake.url)
    try:
        with pytest.raises(SettingsError, match="refused TELEGRAM_BOT_TOKEN") as raised:
            await adapter.start()
        assert "999:wrong" not in str(raised.value)
        assert not adapter.app.running
    finally:
        await fake.stop()


def test_webhook_mode_needs_a_usable_secret(engine: Engine) -> None:
    settings = Settings(TELEGRAM_BOT_TOKEN="1:x", ACHTJE_TELEGRAM_WEBHOOK_URL="https://a/b",
                        ACHTJE_TELEGRAM_WEBHOOK_SECRET="spaces are not allowed")
    with pytest.raises(SettingsError, match="ACHTJE_TELEGRAM_WEBHOOK_SECRET"):
        build(settings, engine, WebServer())

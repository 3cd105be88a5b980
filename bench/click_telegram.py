"""Click to stored answer on Telegram: callback queries posted to our webhook route.

The real TelegramAdapter (webhook mode) and Engine run on the real WebServer against the
fake Bot API (tests/telegram_fakes.py). A click is done when the adapter has answered the
callback, stored the answer, tidied the pressed message and sent the next statement. The
floor is a bare python-telegram-bot Application, fed by the same kind of aiohttp webhook
route, whose handler makes the same three Bot API calls through the same rate limiter.

Presses come one at a time at a fixed pace of 12 a second (`PACE`, in the result's
`scale`), the same for the floor and ours: each press makes two calls the rate limiter
counts (the edit and the next statement), and unpaced presses (some 16 a second) would
exceed Telegram's 30 messages a second, so p99 would measure the limiter's waits, not
the path. People spread over a partnership do not press faster than that together.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from aiohttp import web
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, ApplicationBuilder, CallbackQueryHandler, ContextTypes

from adapters.telegram import TelegramAdapter
from adapters.telegram.limits import ChatRateLimiter
from adapters.telegram.updates import SECRET_HEADER, WEBHOOK_PATH
from adapters.web import WebServer
from bench.clicks import (
    SIZES,
    Click,
    Finished,
    Request,
    Stack,
    against_floor,
    prepare,
    stored_answers,
)
from bench.common import Result, database
from bot.content import load_content
from bot.engine import Engine
from tests.telegram_fakes import BOT, FakeTelegram

SECRET = "bench-secret"
PACE = 12  # presses a second: 24 limiter-counted messages, under Telegram's 30 a second
FIRST_USER = 10_000


def _user(click: Click) -> dict[str, Any]:
    return {"id": FIRST_USER + click.user, "is_bot": False, "first_name": f"Lid{click.user}",
            "language_code": "nl"}


def statement_message(click: Click) -> dict[str, Any]:
    """The message with the button, as the bot sent it to the person's private chat."""
    user = _user(click)
    return {"message_id": 1, "date": 1_790_000_000, "from": BOT, "text": "1/3 Stelling",
            "chat": {"id": user["id"], "type": "private", "first_name": user["first_name"]},
            "reply_markup": {"inline_keyboard": [[
                {"text": "eens", "callback_data": click.value}]]}}


def callback_query(click: Click) -> Request:
    """A tap on a button of the statement the bot sent to someone's private chat."""
    user, message = _user(click), statement_message(click)
    update = {"update_id": int(click.key) + 1, "callback_query": {
        "id": click.key, "from": user, "chat_instance": "ci", "data": click.value,
        "message": message}}
    return click.key, json.dumps(update).encode(), {"Content-Type": "application/json",
                                                    SECRET_HEADER: SECRET}


@asynccontextmanager
async def ours(backend: str, clicks_wanted: int) -> AsyncIterator[Stack]:
    content = load_content()
    fake = FakeTelegram()
    await fake.start()
    try:
        async with database(backend) as (_engine, sessions):
            clicks = await prepare(sessions, content, "telegram",
                                   lambda n: str(FIRST_USER + n), clicks_wanted)
            _known_to(fake, clicks)
            server = WebServer("127.0.0.1", 0)
            adapter = TelegramAdapter(Engine(sessions, content), fake.token, api_url=fake.url,
                                      web=server, webhook_url="https://bench.invalid/tg",
                                      webhook_secret=SECRET, max_retries=1)
            finished = Finished()
            work = adapter._handle

            async def timed(update: Update) -> None:
                await work(update)
                finished.mark(str(update.update_id - 1))

            async def tally() -> dict[str, Any]:
                await adapter.app.update_queue.join()
                while len(finished.at) < len(clicks):  # the last may still be in its handler
                    before = len(finished.at)
                    await asyncio.sleep(0.5)
                    if len(finished.at) == before:
                        break
                stored, sent = await stored_answers(sessions), len(fake.called("sendMessage"))
                return {"stored": stored, "sent": sent,
                        "answered_callbacks": len(fake.called("answerCallbackQuery")),
                        "lost": len(clicks) - stored + len(clicks) - sent}

            adapter._handle = timed  # type: ignore[method-assign]
            await adapter.start()
            await server.start()
            try:
                yield Stack(server.url + WEBHOOK_PATH,
                            (partial(callback_query, c) for c in clicks), finished, tally)
            finally:
                await server.stop()
                await adapter.stop()
    finally:
        await fake.stop()


def _known_to(fake: FakeTelegram, clicks: list[Click]) -> None:
    """The pressed messages, so that tidying one finds it."""
    for click in clicks:
        fake.messages[(FIRST_USER + click.user, 1)] = statement_message(click)


NEXT_STATEMENT = InlineKeyboardMarkup([[
    InlineKeyboardButton(str(n), callback_data=f"s:1:x:{n}") for n in range(1, 6)]])


@asynccontextmanager
async def floor(clicks_wanted: int) -> AsyncIterator[Stack]:
    """A bare Application behind an aiohttp webhook route, through the same per-chat rate
    limiter as ours, making the same Bot API calls per click: answer the callback, tidy
    the pressed message, send the next statement."""
    fake = FakeTelegram()
    await fake.start()
    app: Application[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder().token(fake.token).base_url(f"{fake.url}/bot").updater(None)
        .rate_limiter(ChatRateLimiter(max_retries=1)).job_queue(None).build())
    finished = Finished()

    async def answer(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.message is not None
        await query.answer()
        await query.edit_message_text("1/6 Stelling\nJe koos: 4")
        await app.bot.send_message(query.message.chat.id, "2/6 Stelling",
                                   reply_markup=NEXT_STATEMENT)
        finished.mark(str(update.update_id - 1))

    app.add_handler(CallbackQueryHandler(answer))

    async def webhook(request: web.Request) -> web.Response:
        if request.headers.get(SECRET_HEADER) != SECRET:
            return web.Response(status=403)
        await app.update_queue.put(Update.de_json(await request.json(), app.bot))
        return web.Response(text="ok")

    server = WebServer("127.0.0.1", 0)
    server.add_route("POST", WEBHOOK_PATH, webhook)
    clicks = [Click(str(k), k % 997, f"s:1:x:{k % 5}") for k in range(clicks_wanted)]
    _known_to(fake, clicks)
    await app.initialize()
    await app.start()
    await server.start()
    try:
        yield Stack(server.url + WEBHOOK_PATH, (partial(callback_query, c) for c in clicks),
                    finished)
    finally:
        await server.stop()
        await app.stop()
        await app.shutdown()
        await fake.stop()


async def run(size: str) -> Result:
    return await against_floor(
        "click_telegram", "bare_ptb", size, {**SIZES[size], "pace_per_s": PACE}, floor, ours,
        f"one click at a time, at most {PACE} a second; done = callback answered, answer "
        "committed, message tidied and next statement sent to the fake Bot API; the floor "
        "makes the same three calls through the same rate limiter; lost = clicks without a "
        "stored answer or sent reply",
        f"Telegram button press at {PACE}/s, press to reply sent")

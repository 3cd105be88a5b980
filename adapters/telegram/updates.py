"""How Telegram's updates reach the adapter: long polling, or a webhook on the shared HTTP
server whose calls must carry the secret Telegram was given."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from telegram import Update
from telegram.ext import Application

logger = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]

App = Application[Any, Any, Any, Any, Any, Any]
Handler = Callable[[web.Request], Awaitable[web.Response]]


def webhook(app: App, secret: bytes) -> Handler:
    """The webhook's handler: a call with the right secret puts its update in the queue."""

    async def on_call(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, secret):
            logger.warning("telegram webhook call without the right secret from %s",
                           request.remote)
            return web.Response(status=403)
        try:
            data = await request.json()
            if not isinstance(data, dict):
                raise TypeError("not an object")
            update = Update.de_json(data, app.bot)
        except (ValueError, TypeError, KeyError):
            logger.warning("unreadable telegram webhook body", exc_info=True)
            return web.Response(status=400)
        await app.update_queue.put(update)
        return web.Response(text="ok")

    return on_call


async def start(app: App, webhook_url: str | None, secret: bytes, poll_timeout: int) -> None:
    """Tell Telegram where updates go (the webhook), start the application, and poll when
    there is no webhook. The application is initialized already."""
    if webhook_url:
        await app.bot.set_webhook(webhook_url, secret_token=secret.decode(),
                                  allowed_updates=ALLOWED_UPDATES)
    await app.start()
    if app.updater is not None:
        await app.updater.start_polling(timeout=poll_timeout, allowed_updates=ALLOWED_UPDATES)


async def stop(app: App) -> None:
    """Stop polling (if it runs) and the application, and shut it down."""
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    await app.shutdown()

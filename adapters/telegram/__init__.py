"""The Telegram adapter: long polling or a webhook, inline keyboards, private check-ins
reached from a group through deep links. `DESCRIPTION` is all the rest of achtje knows
of it."""

from __future__ import annotations

import re

from adapters.base import Platform
from adapters.telegram.adapter import TelegramAdapter
from adapters.telegram.translate import ref_problem
from adapters.web import WebServer
from bot.engine import Engine
from bot.settings import Settings, SettingsError

__all__ = ["DESCRIPTION", "TelegramAdapter", "build"]

_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


def build(settings: Settings, engine: Engine, web: WebServer) -> TelegramAdapter:
    """The adapter as configured: webhook mode when ACHTJE_TELEGRAM_WEBHOOK_URL is set."""
    if not settings.telegram_bot_token:
        raise SettingsError("TELEGRAM_BOT_TOKEN is not set")
    secret = settings.telegram_webhook_secret or ""
    if settings.telegram_webhook_url and not _SECRET.fullmatch(secret):
        raise SettingsError(
            "ACHTJE_TELEGRAM_WEBHOOK_URL is set, so ACHTJE_TELEGRAM_WEBHOOK_SECRET must be set "
            "too: 1-256 letters, digits, _ or - (Telegram sends it back with every update)")
    return TelegramAdapter(
        engine,
        settings.telegram_bot_token,
        api_url=settings.telegram_api_url,
        web=web,
        webhook_url=settings.telegram_webhook_url,
        webhook_secret=settings.telegram_webhook_secret,
    )


DESCRIPTION = Platform(
    name=TelegramAdapter.platform,
    settings=("telegram_bot_token",),
    limits=TelegramAdapter.limits,
    invites_in_channel=TelegramAdapter.invites_in_channel,
    build=build,
    check_ref=ref_problem,
)

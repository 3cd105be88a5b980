"""Secrets (bot tokens, signing secrets, database passwords) never reach a log line or an
error message an operator sees, also when things go wrong and logging is at DEBUG."""

from __future__ import annotations

import logging
import traceback
from functools import partial

import pytest

from adapters.telegram.adapter import TelegramAdapter
from bot.engine import Engine
from bot.settings import SettingsError
from bot.store import db
from tests.slack_fakes import BOT_TOKEN, SIGNING_SECRET, sign, slack_rig
from tests.telegram_fakes import SECRET, FakeTelegram, running

TELEGRAM_TOKEN = "123:SECRETTOKEN"
DB_PASSWORD = "hunter2"


def shown(caplog: pytest.LogCaptureFixture, error: BaseException | None = None) -> str:
    """All captured log text (with tracebacks), and the error as the CLI would print it."""
    text = caplog.text + "".join(
        "".join(traceback.format_exception(record.exc_info[1]))
        for record in caplog.records if record.exc_info and record.exc_info[1])
    if error is not None:
        text += str(error) + "".join(traceback.format_exception(error))
    return text


async def test_an_unreachable_telegram_api_does_not_show_the_token(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    adapter = TelegramAdapter(engine, TELEGRAM_TOKEN, api_url="http://127.0.0.1:1",
                              max_retries=1)
    with pytest.raises(SettingsError) as raised:
        await adapter.start()
    assert "could not start" in str(raised.value)
    assert "SECRETTOKEN" not in shown(caplog, raised.value)


def polled_twice(fake: FakeTelegram) -> bool:
    return len(fake.called("getUpdates")) >= 2


async def test_a_running_telegram_bot_does_not_log_its_token(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async for bot in running(engine, "polling"):
        await bot.fake.wait_for(partial(polled_twice, bot.fake), "polling")
        token = bot.fake.token
    assert caplog.records  # the bot did log, at DEBUG
    assert token.split(":")[1] not in shown(caplog)
    assert SECRET not in shown(caplog)


async def test_a_badly_signed_slack_request_logs_no_secret(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with slack_rig(engine) as slack:
        body = '{"type": "event_callback", "event": {"type": "message", "text": "hoi"}}'
        refused = await slack.post(body, "application/json",
                                   headers=sign(body, secret="not-the-secret"), signed=False)
        assert refused.status == 401
    assert caplog.records
    for secret in (SIGNING_SECRET, BOT_TOKEN):
        assert secret not in shown(caplog)


async def test_a_failing_database_url_does_not_show_the_password(
    caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(Exception) as raised:  # whatever the driver raises
        await db.connect(f"postgresql://achtje:{DB_PASSWORD}@127.0.0.1:1/achtje")
    assert DB_PASSWORD not in shown(caplog, raised.value)

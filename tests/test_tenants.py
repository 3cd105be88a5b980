"""ACHTJE_SETUP: on a hosted server the operator decides who may create a partnership with
`setup`. Open (the default) keeps what was; closed lets only the listed Slack workspaces and
Telegram groups run it, over the real adapters and the fake Slack and Telegram servers."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.content import Content
from bot.engine import Engine
from bot.store.models import Partnership
from bot.store.setup import SetupDraft
from bot.tenants import SetupPolicy, SetupPolicyError
from tests.conftest import Clock
from tests.slack_fakes import slack_rig
from tests.telegram_fakes import running
from tests.test_telegram_groups import LOTTE, said

CLOSED = SetupPolicy.parse("closed", "slack:T9, telegram:-555")


async def drafts(sessions: async_sessionmaker[Any]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(SetupDraft)) or 0)


async def test_closed_slack_refuses_setup_outside_the_listed_workspace(
    sessions: async_sessionmaker[Any], content: Content, clock: Clock
) -> None:
    engine = Engine(sessions, content, clock, setup_policy=CLOSED)
    async with slack_rig(engine) as slack:
        await slack.command("setup", channel="C7")  # workspace T1: not listed
        assert slack.fake.texts()[-1] == content.text("setup_closed", "nl")
        assert await drafts(sessions) == 0
        await slack.command("setup", channel="C7", team="T9")
        assert slack.fake.texts()[-1] == content.text("setup_ask_name", "nl")
        assert await drafts(sessions) == 1


async def test_closed_telegram_refuses_setup_outside_the_listed_group(
    sessions: async_sessionmaker[Any], content: Content, clock: Clock
) -> None:
    engine = Engine(sessions, content, clock, setup_policy=CLOSED)
    async for bot in running(engine, "polling"):
        [refusal] = said(await bot.say(LOTTE, "/setup", -777), -777)
        assert refusal.text == content.text("setup_closed", "nl")
        assert await drafts(sessions) == 0
        intro, ask_name = said(await bot.say(LOTTE, "/setup", -555), -555)
        assert intro.text == content.text("setup_intro", "nl")
        assert ask_name.text == content.text("setup_ask_name", "nl")
        assert await drafts(sessions) == 1
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Partnership)) == 0


async def test_open_is_the_default_and_keeps_setup_for_everyone(
    engine: Engine, content: Content
) -> None:
    assert engine.setup_policy.permits("slack", "T1:C7")
    async with slack_rig(engine) as slack:
        await slack.command("setup", channel="C7")
        assert slack.fake.texts()[-1] == content.text("setup_ask_name", "nl")


def test_the_policy_reads_workspaces_and_groups_and_refuses_nonsense() -> None:
    assert CLOSED.permits("slack", "T9:C1") and CLOSED.permits("telegram", "-555")
    assert not CLOSED.permits("slack", "T99:C1")  # a prefix of the team id is not the team
    assert not CLOSED.permits("telegram", "-5550") and not CLOSED.permits("console", "T9:C1")
    assert SetupPolicy.parse("open").permits("telegram", "-1")
    with pytest.raises(SetupPolicyError, match="open or closed"):
        SetupPolicy.parse("shut")
    with pytest.raises(SetupPolicyError, match="PLATFORM:ID"):
        SetupPolicy.parse("closed", "T9")

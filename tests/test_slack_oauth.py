"""Installs in several workspaces: the OAuth flow, tokens encrypted at rest, uninstalls."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.slack.install import (
    STATE_LIFETIME,
    DatabaseInstallationStore,
    DatabaseStateStore,
    token_cipher,
)
from adapters.web import WebServer
from bot.engine import Engine
from bot.messages import Text, Unreachable
from bot.settings import Settings, SettingsError
from bot.store.models import Partnership
from bot.store.slack import SlackInstallation
from tests.conftest import Clock
from tests.slack_fakes import SlackRig, slack_rig

SECRET_KEY = "a-secret-only-the-operator-knows"
OAUTH = {"SLACK_BOT_TOKEN": "", "SLACK_CLIENT_ID": "111.222", "SLACK_CLIENT_SECRET": "shh",
         "ACHTJE_SECRET_KEY": SECRET_KEY}


@pytest.fixture
async def slack(engine: Engine, partnership: Partnership) -> AsyncIterator[SlackRig]:
    async with slack_rig(engine, **OAUTH) as rig:
        yield rig


async def install(slack: SlackRig, team: str) -> int:
    """Walk the install flow as a browser would; returns the status of the final page."""
    page = await slack.http.get(f"{slack.web.url}/slack/install")
    assert page.status == 200
    html = await page.text()
    found = re.search(r"state=([\w-]+)", html)
    assert found and "client_id=111.222" in html and "scope=commands" in html
    state = found.group(1)
    slack.fake.installs[f"code-{team}"] = team
    done = await slack.http.get(
        f"{slack.web.url}/slack/oauth_redirect",
        params={"code": f"code-{team}", "state": state},
        headers={"Cookie": f"slack-app-oauth-state={state}"},
    )
    await done.read()
    return done.status


async def installations(sessions: async_sessionmaker[Any]) -> list[SlackInstallation]:
    async with sessions() as session:
        return list(await session.scalars(select(SlackInstallation)))


async def test_a_workspace_installs_and_its_own_token_is_used(
    slack: SlackRig, sessions: async_sessionmaker[Any]
) -> None:
    assert await install(slack, "T2") == 200
    [row] = await installations(sessions)
    assert (row.team_id, row.bot_user_id, row.team_name) == ("T2", "UBOT", "School T2")
    assert "xoxb-secret-T2" not in row.bot_token_encrypted  # encrypted at rest

    await slack.event({"type": "message", "channel": "DU5", "user": "U5", "text": "privacy",
                       "ts": "1.000100", "channel_type": "im"}, team="T2")
    [reply] = slack.fake.posted()
    assert (reply.args["channel"], reply.token) == ("DU5", "xoxb-secret-T2")

    await slack.adapter.send_direct("T2:U5", [Text(text="Ronde 2 staat open")])
    assert slack.fake.posted()[-1].token == "xoxb-secret-T2"


async def test_uninstalling_removes_the_token(
    slack: SlackRig, sessions: async_sessionmaker[Any]
) -> None:
    await install(slack, "T2")
    await install(slack, "T3")
    response = await slack.event({"type": "app_uninstalled"}, team="T2")
    assert response.status == 200
    assert [row.team_id for row in await installations(sessions)] == ["T3"]
    with pytest.raises(Unreachable):
        await slack.adapter.send_direct("T2:U5", [Text(text="hallo")])

    await slack.event({"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOT"]}},
                      team="T3")
    assert await installations(sessions) == []


async def test_an_install_link_works_once(
    slack: SlackRig, sessions: async_sessionmaker[Any]
) -> None:
    page = await slack.http.get(f"{slack.web.url}/slack/install")
    found = re.search(r"state=([\w-]+)", await page.text())
    assert found
    state = found.group(1)
    slack.fake.installs["code-1"] = "T2"
    cookie = {"Cookie": f"slack-app-oauth-state={state}"}
    url = f"{slack.web.url}/slack/oauth_redirect"
    first = await slack.http.get(url, params={"code": "code-1", "state": state}, headers=cookie)
    again = await slack.http.get(url, params={"code": "code-1", "state": state}, headers=cookie)
    forged = await slack.http.get(url, params={"code": "code-1", "state": "made-up"},
                                  headers={"Cookie": "slack-app-oauth-state=made-up"})
    assert (first.status, again.status, forged.status) == (200, 401, 401)
    assert len(await installations(sessions)) == 1


async def test_a_changed_secret_key_cannot_read_old_tokens(
    sessions: async_sessionmaker[Any], clock: Clock
) -> None:
    from slack_sdk.oauth.installation_store import Bot

    old = DatabaseInstallationStore(sessions, token_cipher(SECRET_KEY), clock)
    await old.async_save_bot(Bot(team_id="T2", bot_token="xoxb-1", bot_id="B1",
                                 bot_user_id="U1", installed_at=clock.now.timestamp()))
    assert (await old.async_find_bot(enterprise_id=None, team_id="T2")) is not None
    new = DatabaseInstallationStore(sessions, token_cipher("another-secret-altogether"), clock)
    assert await new.async_find_bot(enterprise_id=None, team_id="T2") is None


async def test_oauth_states_expire(sessions: async_sessionmaker[Any], clock: Clock) -> None:
    states = DatabaseStateStore(sessions, clock)
    state = await states.async_issue()
    clock.advance(minutes=STATE_LIFETIME.total_seconds() / 60 + 1)
    assert not await states.async_consume(state)
    fresh = await states.async_issue()
    assert await states.async_consume(fresh) and not await states.async_consume(fresh)


@pytest.mark.parametrize("values, missing", [
    ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET"),
    ({"SLACK_CLIENT_ID": "1", "SLACK_CLIENT_SECRET": "2", "SLACK_SIGNING_SECRET": "s"},
     "ACHTJE_SECRET_KEY"),
    ({"SLACK_CLIENT_ID": "1", "SLACK_CLIENT_SECRET": "2", "SLACK_SIGNING_SECRET": "s",
      "ACHTJE_SECRET_KEY": "short"}, "ACHTJE_SECRET_KEY"),
])
def test_incomplete_settings_say_what_to_set(
    engine: Engine, values: dict[str, str], missing: str
) -> None:
    from adapters.slack import SlackAdapter

    settings = Settings.model_validate(values)
    assert "slack" in settings.platforms()
    with pytest.raises(SettingsError, match=missing):
        SlackAdapter(settings, engine, WebServer("127.0.0.1", 0))

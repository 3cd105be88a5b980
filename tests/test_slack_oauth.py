"""Installs in several workspaces: the OAuth flow, tokens encrypted at rest and rotated,
uninstalls, and no token in any log line."""

from __future__ import annotations

import asyncio
import base64
import logging
import re
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select, update
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
from bot.outbox import Envelope, enqueue
from bot.service import configured
from bot.settings import Settings, SettingsError
from bot.store.models import Member, Partnership
from bot.store.schedule import OutboxMessage
from bot.store.slack import SlackInstallation
from scheduler.sender import Sender
from tests.conftest import Clock
from tests.slack_fakes import TOKEN_LIFETIME, Call, FakeSlack, SlackRig, slack_rig
from tests.test_privacy_secrets import shown

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


async def stored_tokens(sessions: async_sessionmaker[Any]) -> tuple[str, str | None]:
    """The bot token and refresh token of the one installation, decrypted."""
    [row] = await installations(sessions)
    cipher = token_cipher(SECRET_KEY)
    refresh = row.bot_refresh_token_encrypted
    return (cipher.decrypt(row.bot_token_encrypted.encode()).decode(),
            cipher.decrypt(refresh.encode()).decode() if refresh else None)


async def expire(sessions: async_sessionmaker[Any], minutes_left: float = -1) -> None:
    """As if the tokens' twelve hours were (nearly) over: Slack's expiry is wall-clock time."""
    async with sessions() as session, session.begin():
        await session.execute(update(SlackInstallation).values(
            bot_token_expires_at=datetime.now(UTC) + timedelta(minutes=minutes_left)))


def refreshes(fake: FakeSlack) -> list[Call]:
    return [call for call in fake.of("oauth.v2.access")
            if call.args.get("grant_type") == "refresh_token"]


async def dm(slack: SlackRig, team: str = "T2") -> None:
    await slack.event({"type": "message", "channel": "DU5", "user": "U5", "text": "privacy",
                       "ts": "1.000100", "channel_type": "im"}, team=team)


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
    assert "slack" in configured(settings)
    with pytest.raises(SettingsError, match=missing):
        SlackAdapter(settings, engine, WebServer("127.0.0.1", 0))


async def test_a_rotating_token_and_its_refresh_token_are_kept_encrypted(
    slack: SlackRig, sessions: async_sessionmaker[Any]
) -> None:
    await install(slack, "T2")
    [row] = await installations(sessions)
    assert row.bot_refresh_token_encrypted and "xoxe-1-T2" not in row.bot_refresh_token_encrypted
    assert await stored_tokens(sessions) == ("xoxb-secret-T2", "xoxe-1-T2")
    assert row.bot_token_expires_at is not None
    lifetime = row.bot_token_expires_at - datetime.now(UTC)
    assert timedelta(seconds=TOKEN_LIFETIME - 60) < lifetime <= timedelta(seconds=TOKEN_LIFETIME)


async def test_an_event_after_expiry_refreshes_the_token_and_uses_the_new_one(
    slack: SlackRig, sessions: async_sessionmaker[Any]
) -> None:
    await install(slack, "T2")
    await dm(slack)
    assert slack.fake.posted()[-1].token == "xoxb-secret-T2" and refreshes(slack.fake) == []

    await expire(sessions)
    calls_before = len(slack.fake.calls)
    await dm(slack)
    [refresh] = refreshes(slack.fake)
    assert refresh.args["refresh_token"] == "xoxe-1-T2"
    assert refresh.token == "Basic " + base64.b64encode(b"111.222:shh").decode()  # the app's
    token, refresh_token = await stored_tokens(sessions)
    assert token.startswith("xoxe.xoxb-") and refresh_token not in (None, "xoxe-1-T2")
    used = {call.token for call in slack.fake.calls[calls_before:] if call is not refresh}
    assert used == {token}  # bolt's auth.test and the reply, all with the new token
    [row] = await installations(sessions)
    assert row.bot_token_expires_at and row.bot_token_expires_at > datetime.now(UTC) + timedelta(
        hours=11)

    await dm(slack)
    assert len(refreshes(slack.fake)) == 1 and slack.fake.posted()[-1].token == token


async def test_a_scheduled_message_after_expiry_refreshes_the_token(
    slack: SlackRig, sessions: async_sessionmaker[Any]
) -> None:
    await install(slack, "T2")
    await expire(sessions, minutes_left=30)  # expiring soon is refreshed as well
    await slack.adapter.send_direct("T2:U5", [Text(text="Ronde 2 staat open")])
    assert len(refreshes(slack.fake)) == 1
    token, _ = await stored_tokens(sessions)
    assert slack.fake.posted()[-1].token == token != "xoxb-secret-T2"


async def test_events_at_the_same_time_refresh_once(
    slack: SlackRig, sessions: async_sessionmaker[Any]
) -> None:
    await install(slack, "T2")
    await expire(sessions)
    await asyncio.gather(*(dm(slack) for _ in range(3)))
    assert len(refreshes(slack.fake)) == 1
    token, _ = await stored_tokens(sessions)
    assert {call.token for call in slack.fake.posted()} == {token}


async def test_two_processes_refresh_a_token_once(
    sessions: async_sessionmaker[Any], clock: Clock, database_url: str
) -> None:
    """Slack revokes a refresh token once used: the second process must take the new one."""
    if database_url.startswith("sqlite"):
        pytest.skip("on SQLite one process runs")
    from slack_sdk.oauth.installation_store import Bot

    fake = FakeSlack()
    await fake.start()
    try:
        client = AsyncWebClient(base_url=fake.api_url)
        stores = [DatabaseInstallationStore(sessions, token_cipher(SECRET_KEY), clock,
                                            AsyncTokenRotator(client_id="1", client_secret="2",
                                                              client=client))
                  for _ in range(2)]
        await stores[0].async_save_bot(Bot(
            team_id="T2", bot_token="xoxe.xoxb-1-old-T2", bot_refresh_token="xoxe-1-old-T2",
            bot_token_expires_in=60, bot_id="B1", bot_user_id="U1", installed_at=clock.now))
        found = await asyncio.gather(*(store.async_find_bot(enterprise_id=None, team_id="T2")
                                       for store in stores))
        assert len(refreshes(fake)) == 1
        assert found[0] and found[1] and found[0].bot_token == found[1].bot_token
        assert found[0].bot_token == (await stored_tokens(sessions))[0] != "xoxe.xoxb-1-old-T2"
    finally:
        await fake.stop()


async def test_a_refused_refresh_keeps_the_old_token_while_it_lasts(
    slack: SlackRig, sessions: async_sessionmaker[Any], caplog: pytest.LogCaptureFixture
) -> None:
    await install(slack, "T2")
    await expire(sessions, minutes_left=30)
    slack.fake.fail_next("oauth.v2.access", "invalid_refresh_token")
    await dm(slack)
    assert slack.fake.posted()[-1].token == "xoxb-secret-T2"
    assert await stored_tokens(sessions) == ("xoxb-secret-T2", "xoxe-1-T2")
    assert "could not be refreshed (invalid_refresh_token)" in caplog.text

    await expire(sessions)
    slack.fake.fail_next("oauth.v2.access", "invalid_refresh_token")
    answered = len(slack.fake.posted())
    await dm(slack)
    assert len(slack.fake.posted()) == answered  # no working token: nothing is sent
    assert "reinstall achtje there" in caplog.text


async def remind_u5(sessions: async_sessionmaker[Any], partnership: Partnership,
                    clock: Clock, slack: SlackRig) -> tuple[OutboxMessage, Member]:
    """Send a reminder to T2:U5 through the outbox; the row and the member after that."""
    async with sessions() as session, session.begin():
        member = Member(partnership_id=partnership.id, platform="slack", user_ref="T2:U5",
                        display_name="Anna", language="nl", onboarded_at=clock.now,
                        created_at=clock.now)
        session.add(member)
        await session.flush()
        await enqueue(session, [Envelope(
            "reminder", partnership.id, "T2:U5", clock.now.date(), "slack", "T2:U5", True,
            (Text(text="Ronde 2 staat nog open"),), clock.now, clock.now + timedelta(hours=3),
            member_id=member.id)], clock.now)
    await Sender(sessions, {"slack": slack.adapter}, clock=clock).send_due()
    async with sessions() as session:
        [row] = await session.scalars(select(OutboxMessage))
        found = await session.get(Member, member.id)
        assert found is not None
        return row, found


@pytest.mark.parametrize(("status", "error"), [(500, "internal_error"),
                                               (200, "service_unavailable")])
async def test_slack_failing_to_refresh_an_expired_token_just_now_means_try_again(
    slack: SlackRig, sessions: async_sessionmaker[Any], partnership: Partnership,
    clock: Clock, status: int, error: str
) -> None:
    await install(slack, "T2")
    await expire(sessions)
    slack.fake.fail_next("oauth.v2.access", error, status=status)
    row, anna = await remind_u5(sessions, partnership, clock, slack)
    assert slack.fake.posted() == [] and anna.unreachable_at is None
    assert row.status == "pending" and row.not_before == clock.now + timedelta(seconds=60)


@pytest.mark.parametrize("error", ["invalid_refresh_token", "token_revoked", "invalid_auth"])
async def test_slack_refusing_to_refresh_an_expired_token_makes_the_workspace_unreachable(
    slack: SlackRig, sessions: async_sessionmaker[Any], partnership: Partnership,
    clock: Clock, error: str
) -> None:
    await install(slack, "T2")
    await expire(sessions)
    slack.fake.fail_next("oauth.v2.access", error)
    row, anna = await remind_u5(sessions, partnership, clock, slack)
    assert slack.fake.posted() == [] and row.status == "failed"
    assert anna.unreachable_at == clock.now


async def test_uninstalling_needs_no_working_token(
    slack: SlackRig, sessions: async_sessionmaker[Any]
) -> None:
    await install(slack, "T2")
    await expire(sessions)
    slack.fake.fail_next("oauth.v2.access", "invalid_refresh_token")
    await slack.event({"type": "app_uninstalled"}, team="T2")
    assert await installations(sessions) == [] and refreshes(slack.fake) == []


async def test_tokens_of_installs_and_refreshes_stay_out_of_the_logs(
    slack: SlackRig, sessions: async_sessionmaker[Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await install(slack, "T2")
    tokens = set(await stored_tokens(sessions))
    await expire(sessions)
    slack.fake.fail_next("chat.postMessage", "invalid_auth")  # the reply with the new token
    await dm(slack)
    tokens |= set(await stored_tokens(sessions))
    await expire(sessions)
    slack.fake.fail_next("oauth.v2.access", "invalid_refresh_token")
    await dm(slack)

    logged = shown(caplog)
    assert "'refresh_token': '***'" in logged  # slack_sdk logged both refresh requests
    assert "invalid_auth" in logged and "invalid_refresh_token" in logged
    assert len(tokens - {None}) == 4
    for token in tokens - {None}:
        assert token not in logged


async def test_tokens_saved_before_the_start_are_masked_from_the_start(
    engine: Engine, partnership: Partnership, sessions: async_sessionmaker[Any], clock: Clock,
    caplog: pytest.LogCaptureFixture
) -> None:
    """Tokens of a shape achtje does not know, saved by an earlier process."""
    token, refresh = (f"saved-{kind}-{secrets.token_hex(4)}-T7" for kind in ("bot", "refresh"))
    cipher = token_cipher(SECRET_KEY)
    async with sessions() as session, session.begin():
        session.add(SlackInstallation(
            team_id="T7", bot_id="B7", bot_user_id="UBOT", installed_at=clock.now,
            bot_token_encrypted=cipher.encrypt(token.encode()).decode(),
            bot_refresh_token_encrypted=cipher.encrypt(refresh.encode()).decode(),
            bot_token_expires_at=datetime.now(UTC) - timedelta(minutes=1)))
    caplog.set_level(logging.DEBUG)
    async with slack_rig(engine, **OAUTH) as slack:
        logging.getLogger("elsewhere").warning("a library shows %s and %s", token, refresh)
        slack.fake.fail_next("oauth.v2.access", "invalid_refresh_token")
        await dm(slack, team="T7")
    logged = shown(caplog)
    assert "a library shows *** and ***" in logged and "'refresh_token': '***'" in logged
    assert token not in logged and refresh not in logged

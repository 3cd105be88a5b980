"""Socket Mode: the adapter connects to a (fake) Slack WebSocket and answers over it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.content import Content
from bot.engine import Engine
from bot.store.models import ChannelBinding, Member, Partnership
from tests.conftest import Clock
from tests.slack_fakes import slack_rig

APP_TOKEN = "xapp-1-A1-1-fake"


async def test_socket_mode_acknowledges_and_answers_a_slash_command(
    engine: Engine, partnership: Partnership, sessions: async_sessionmaker[Any],
    clock: Clock, content: Content,
) -> None:
    async with sessions() as session, session.begin():
        session.add(ChannelBinding(partnership_id=partnership.id, platform="slack",
                                   channel_ref="T1:C1", created_at=clock.now))
    # A developer's laptop: a bot token and an app token, no signing secret, no public URL.
    async with slack_rig(engine, SLACK_APP_TOKEN=APP_TOKEN, SLACK_SIGNING_SECRET="") as slack:
        # Once to check the app token at start, once by the Socket Mode client.
        opened = slack.fake.of("apps.connections.open")
        assert [call.token for call in opened] == [APP_TOKEN, APP_TOKEN]
        # No webhook in Socket Mode: nothing listens on /slack/events.
        refused = await slack.http.post(f"{slack.web.url}/slack/events", data=b"{}")
        assert refused.status in (404, 405)

        ack = await slack.fake.send_envelope({
            "envelope_id": "env-1", "type": "slash_commands", "accepts_response_payload": True,
            "payload": {"token": "legacy", "team_id": "T1", "team_domain": "school",
                        "channel_id": "C1", "channel_name": "samenwerking", "user_id": "U1",
                        "user_name": "anna", "command": "/achtje", "text": "privacy",
                        "api_app_id": "A1", "trigger_id": "1.1.t",
                        "response_url": "https://hooks.slack.invalid/1"},
        })
        assert ack["envelope_id"] == "env-1"
        await slack.adapter.settled()
        [shown] = slack.fake.posted()
        assert (shown.method, shown.args["channel"], shown.args["user"]) == (
            "chat.postEphemeral", "C1", "U1")
        assert slack.fake.texts()[0].startswith("Ik bewaar je school")
    async with sessions() as session:
        member = await session.scalar(select(Member))
    assert member is not None and member.user_ref == "T1:U1"

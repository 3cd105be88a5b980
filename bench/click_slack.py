"""Click to stored answer on Slack: signed block_actions over real HTTP to our server.

The real SlackAdapter and Engine run on the real WebServer against the fake Slack Web API
(tests/slack_fakes.py). A click counts as done when its answer is committed, the next
statement has been posted to the fake Slack and the pressed question shows the choice
(the task the listener hands the work to has finished). The floor is a bare slack-bolt
AsyncApp on the same kind of aiohttp server making the same Web API calls per click
(chat.postMessage, chat.update) after its acknowledgement.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import SlackAdapter
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
from bot.settings import Settings
from tests.slack_fakes import BOT_TOKEN, SIGNING_SECRET, TEAM, FakeSlack, sign

PATH = "/slack/events"


def block_actions(click: Click) -> Request:
    """The form body Slack posts when a button in a DM with the bot is pressed, signed now."""
    user = f"U{click.user}"
    payload: dict[str, Any] = {
        "type": "block_actions", "api_app_id": "A1", "token": "legacy",
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM},
        "team": {"id": TEAM, "domain": "school"}, "enterprise": None,
        "is_enterprise_install": False,
        "container": {"type": "message", "message_ts": "1.000100", "channel_id": f"D{user}",
                      "is_ephemeral": False},
        "channel": {"id": f"D{user}", "name": "directmessage"},
        "trigger_id": f"{click.key}.1.trigger",
        "response_url": "https://hooks.slack.invalid/actions/1",
        "actions": [{"action_id": "achtje_0", "block_id": "b1", "type": "button",
                     "value": click.value, "text": {"type": "plain_text", "text": "x"},
                     "action_ts": click.key}],
    }
    body = urlencode({"payload": json.dumps(payload)})
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
    return click.key, body.encode(), headers


@asynccontextmanager
async def ours(backend: str, clicks_wanted: int) -> AsyncIterator[Stack]:
    content = load_content()
    fake = FakeSlack()
    await fake.start()
    try:
        async with database(backend) as (_engine, sessions):
            clicks = await prepare(sessions, content, "slack", lambda n: f"{TEAM}:U{n}",
                                   clicks_wanted)
            engine = Engine(sessions, content)
            server = WebServer("127.0.0.1", 0)
            adapter = SlackAdapter(Settings.model_validate({
                "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "ACHTJE_SLACK_API_URL": fake.api_url}), engine, server)
            finished = Finished()
            work = adapter._button

            async def timed(body: dict[str, Any], value: str, client: AsyncWebClient,
                            team: str, respond: AsyncRespond) -> None:
                await work(body, value, client, team, respond)
                finished.mark(body["actions"][0]["action_ts"])

            async def tally() -> dict[str, Any]:
                await adapter.settled()
                stored, posted = await stored_answers(sessions), len(fake.of("chat.postMessage"))
                return {"stored": stored, "posted": posted,
                        "lost": len(clicks) - stored + len(clicks) - posted}

            adapter._button = timed  # type: ignore[method-assign]
            await adapter.start()
            await server.start()
            try:
                yield Stack(server.url + PATH, (partial(block_actions, c) for c in clicks),
                            finished, tally)
            finally:
                await server.stop()
                await adapter.stop()
    finally:
        await fake.stop()


# What a statement looks like: its text and five scale buttons.
NEXT_STATEMENT: list[dict[str, Any]] = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "2/6 We weten van elkaar wat we "
                                 "willen bereiken."}},
    {"type": "actions", "block_id": "b1", "elements": [
        {"type": "button", "action_id": f"achtje_{n}", "value": f"s:1:x:{n}",
         "text": {"type": "plain_text", "text": str(n)}} for n in range(1, 6)]},
]


@asynccontextmanager
async def floor(clicks_wanted: int) -> AsyncIterator[Stack]:
    """A bare bolt app on an aiohttp server making the same Web API calls per click as
    ours: verify the signature, route, acknowledge, then (after the acknowledgement, as
    ours does) post the next statement to the person and update the pressed message."""
    fake = FakeSlack()
    await fake.start()
    http = aiohttp.ClientSession()  # one session, as a careful bare app keeps one
    app = AsyncApp(signing_secret=SIGNING_SECRET, process_before_response=True,
                   client=AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_url,
                                         session=http))
    finished = Finished()
    running: set[asyncio.Task[None]] = set()

    async def reply(body: dict[str, Any], client: AsyncWebClient) -> None:
        await client.chat_postMessage(channel=body["user"]["id"], text="2/6",
                                      blocks=NEXT_STATEMENT)
        await client.chat_update(channel=body["channel"]["id"],
                                 ts=body["container"]["message_ts"], text="Je koos: 4",
                                 blocks=[])
        finished.mark(body["actions"][0]["action_ts"])

    @app.action(re.compile(".*"))
    async def answer(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        task = asyncio.create_task(reply(body, client))
        running.add(task)
        task.add_done_callback(running.discard)

    async def handle(request: web.Request) -> web.StreamResponse:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    server = WebServer("127.0.0.1", 0)
    server.add_route("POST", PATH, handle)
    await server.start()
    clicks = [Click(str(k), k % 997, f"s:1:x:{k}") for k in range(clicks_wanted)]
    try:
        yield Stack(server.url + PATH, (partial(block_actions, c) for c in clicks), finished)
    finally:
        await server.stop()
        await http.close()
        await fake.stop()


async def run(size: str) -> Result:
    return await against_floor(
        "click_slack", "bare_bolt", size, SIZES[size], floor, ours,
        "one click at a time; done = answer committed, next statement posted and the pressed "
        "question updated at the fake Slack; the floor makes the same two Web API calls; "
        "lost = clicks without a stored answer or without a posted reply",
        "Slack button press, press to reply posted")

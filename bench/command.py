"""`/achtje help` through the real `achtje run`: server CPU per request, against bare bolt.

The real service (`achtje run`, Slack over HTTP, against the fake Slack of the tests, on
a SQLite file at head with one partnership and a known, onboarded member) runs in a
process of its own; the slash command comes from that member in a DM with the bot,
signed as Slack signs it. The figure is the server's CPU per request: the user + system
time of its process (/proc/<pid>/stat) over a block of requests, divided by the block's
size, so what the client and the fake Slack spend is not counted. A request is done when
the fake has received every Web API call achtje makes for it.

The floor is a bare slack-bolt AsyncApp in a process of its own, on a plain aiohttp
server, answering the same command with the same Web API calls: the calls achtje made
for a request, counted and recorded on the fake, replayed with the same arguments after
the acknowledgement (achtje, too, answers in a task after it). Both are warmed up, then
get blocks of requests in turn, one request at a time. Target: at most 2x the floor's
CPU per request.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import aiohttp

from bench.common import Result, database, path_row, ratio, result
from bench.process import MAIN, cpu_seconds, service_env, serving
from bot.store.models import Member, Partnership, School
from tests.slack_fakes import BOT_TOKEN, SIGNING_SECRET, TEAM, FakeSlack, sign

SIZES = {"smoke": {"warmup": 10, "block": 25, "requests": 50},
         "full": {"warmup": 100, "block": 250, "requests": 1_000}}
TARGET = 2.0  # CPU per request, at most this times the floor's
USER, DM = "U1", "D1"
PATH = "/slack/events"
_triggers = itertools.count(1)


def slash_command(response_url: str) -> tuple[bytes, dict[str, str]]:
    """`/achtje help` as Slack posts it from the member's DM with the bot, signed now."""
    body = urlencode({
        "token": "legacy", "team_id": TEAM, "team_domain": "school", "channel_id": DM,
        "channel_name": "directmessage", "user_id": USER, "user_name": USER.lower(),
        "command": "/achtje", "text": "help", "api_app_id": "A1",
        "is_enterprise_install": "false", "response_url": response_url,
        "trigger_id": f"{next(_triggers)}.1.trigger"})
    return body.encode(), {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}


async def seed(sessions: Any) -> None:
    """One partnership with a school and the member who sends the command, onboarded."""
    now = datetime.now(UTC)
    async with sessions() as session, session.begin():
        partnership = Partnership(name="Commandopartnerschap", created_at=now,
                                  schools=[School(name="Vmbo Oost", type="vmbo")])
        session.add(partnership)
        await session.flush()
        session.add(Member(partnership_id=partnership.id, platform="slack",
                           user_ref=f"{TEAM}:{USER}", display_name="Lid", level="teachers",
                           school_id=partnership.schools[0].id, role="member", language="nl",
                           onboarded_at=now, created_at=now))


@dataclass
class Server:
    """A process answering the command: its pid, where to post, and how many Web API
    calls each request makes (0: not known yet)."""

    pid: int
    url: str
    calls_per_request: int = 0


async def request(http: aiohttp.ClientSession, fake: FakeSlack, server: Server) -> None:
    """One command; returns when the fake has every call it makes. While those are not
    known: when no call has come for half a second, and then they are."""
    before = len(fake.calls)
    body, headers = slash_command(fake.response_url("command"))
    async with http.post(server.url, data=body, headers=headers) as response:
        await response.read()
        response.raise_for_status()
    if server.calls_per_request:
        await fake.wait_for_calls(before + server.calls_per_request, timeout=30)
        return
    await fake.wait_for_calls(before + 1, timeout=30)
    while True:
        seen = len(fake.calls)
        await asyncio.sleep(0.5)
        if len(fake.calls) == seen:
            break
    server.calls_per_request = len(fake.calls) - before


async def learn(http: aiohttp.ClientSession, fake: FakeSlack, server: Server) -> None:
    """Two requests: the first also authorizes (auth.test, once per process); the second
    shows the calls every request makes."""
    for _ in range(2):
        server.calls_per_request = 0
        await request(http, fake, server)


async def block(http: aiohttp.ClientSession, fake: FakeSlack, server: Server,
                requests: int) -> float:
    """CPU seconds the server spent on `requests` commands, one at a time."""
    cpu = cpu_seconds(server.pid)
    for _ in range(requests):
        await request(http, fake, server)
    return cpu_seconds(server.pid) - cpu


async def measure(fake: FakeSlack, env: dict[str, str], scale: dict[str, int]) -> dict[str, Any]:
    """Ours and the floor, each in its own process, in alternating blocks after warm-up."""
    async with aiohttp.ClientSession() as http, \
            serving([sys.executable, "-c", MAIN, "run"], env) as served:
        ours = Server(served.pid, served.url + PATH)
        await learn(http, fake, ours)
        script = [{"method": c.method, "args": c.args}
                  for c in fake.calls[-ours.calls_per_request:]]
        floor_env = {**env, "ACHTJE_BENCH_CALLS": json.dumps(script)}
        floor_env.pop("SLACK_BOT_TOKEN")  # the floor's client has it
        async with serving([sys.executable, "-m", "bench.command", "--floor"],
                           floor_env) as floor:
            bare = Server(floor.pid, floor.url + PATH)
            await learn(http, fake, bare)
            if bare.calls_per_request != len(script):
                raise RuntimeError(f"the floor makes {bare.calls_per_request} calls, not "
                                   f"{len(script)}")
            settled = len(fake.calls)
            for server in (ours, bare):
                await block(http, fake, server, scale["warmup"])
            cpu = {"ours": 0.0, "floor": 0.0}
            counts = Counter[str]()
            blocks = -(-scale["requests"] // scale["block"])
            for _ in range(blocks):
                for name, server in (("floor", bare), ("ours", ours)):
                    cpu[name] += await block(http, fake, server, scale["block"])
                    counts[name] += scale["block"]
    # Each request waits for as many calls as the learned one made (a missing one stops
    # the benchmark); a call more than that shows as lost here.
    expected = (2 * scale["warmup"] + 2 * blocks * scale["block"]) * len(script)
    figures = {name: {"requests": counts[name],
                      "cpu_ms_per_request": 1000 * cpu[name] / counts[name],
                      "calls_per_request": len(script)} for name in ("ours", "floor")}
    return {**figures, "calls": dict(Counter(c["method"] for c in script)),
            "lost": abs(len(fake.calls) - settled - expected) // max(1, len(script)),
            "load_1min": os.getloadavg()[0]}


async def run(size: str) -> Result:
    scale = SIZES[size]
    fake = FakeSlack()
    await fake.start()
    try:
        async with database("sqlite") as (engine, sessions):
            await seed(sessions)
            url = engine.url.render_as_string(hide_password=False)
            await engine.dispose()
            found = await measure(fake, service_env(url, fake, None), scale)
    finally:
        await fake.stop()
    ours, bare = found["ours"], found["floor"]
    cpu, floor_cpu = ours["cpu_ms_per_request"], bare["cpu_ms_per_request"]
    path = path_row(f"`/achtje help` through `achtje run`, server CPU per request "
                    f"({ours['requests']} requests, sqlite)", f"<= {TARGET:g}x the bare app",
                    cpu, floor_cpu, "ms", cpu <= TARGET * floor_cpu)
    return result("command", size, {**scale, "calls_per_request": found["calls"]},
                  {"sqlite": {**ours, "load_1min": found["load_1min"]}},
                  {"bare_bolt": {"sqlite": bare}},
                  {"sqlite_cpu_per_request": ratio(cpu, floor_cpu)}, found["lost"],
                  "server CPU (user + system of its process) per request over blocks that "
                  "alternate with the floor's; lost = requests whose calls did not all come",
                  [path])


async def _floor() -> None:
    """The bare app: verify, route, acknowledge, then make the recorded calls in a task."""
    from aiohttp import web
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.app.async_app import AsyncApp
    from slack_bolt.context.ack.async_ack import AsyncAck
    from slack_sdk.web.async_client import AsyncWebClient

    script = json.loads(os.environ["ACHTJE_BENCH_CALLS"])
    http = aiohttp.ClientSession()  # one session, as a careful bare app keeps one
    client = AsyncWebClient(token=BOT_TOKEN, base_url=os.environ["ACHTJE_SLACK_API_URL"],
                            session=http)
    app = AsyncApp(signing_secret=SIGNING_SECRET, process_before_response=True, client=client)
    running: set[asyncio.Task[None]] = set()

    async def answer(command: dict[str, Any]) -> None:
        for call in script:
            if call["method"] == "respond":
                async with http.post(command["response_url"], json=call["args"]) as reply:
                    await reply.read()
            else:
                await client.api_call(call["method"], json=call["args"])

    @app.command("/achtje")
    async def help_(ack: AsyncAck, command: dict[str, Any]) -> None:
        await ack()
        task = asyncio.create_task(answer(command))
        running.add(task)
        task.add_done_callback(running.discard)

    async def handle(request: web.Request) -> web.StreamResponse:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    async def healthz(_request: web.Request) -> web.Response:
        return web.Response(text="ok")

    server = web.Application()
    server.router.add_post(PATH, handle)
    server.router.add_get("/healthz", healthz)
    runner = web.AppRunner(server, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", int(os.environ["ACHTJE_HTTP_PORT"])).start()
    await asyncio.Event().wait()


if __name__ == "__main__" and "--floor" in sys.argv:
    asyncio.run(_floor())

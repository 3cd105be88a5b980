"""A fake Slack for the tests: the Web API and the Socket Mode WebSocket on 127.0.0.1.

`FakeSlack` is a real aiohttp server on port 0 that records every call and answers the way
Slack does (the fields achtje and the SDKs read). It keeps the messages as people see them
(updated, replaced through a response_url), and refuses blocks beyond Block Kit's limits
with `invalid_blocks`, as Slack does. `SlackRig` runs the real adapter on the real web
server against it and sends properly signed requests, as Slack would; a press is made on
the message that shows the button, with that message's ts and blocks.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from itertools import count
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.slack import SlackAdapter
from adapters.web import WebServer
from bot.engine import Engine
from bot.settings import Settings
from bot.store.models import ChannelBinding

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-fake-T1"
TEAM = "T1"


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    token: str | None
    at: float
    failed: bool = False
    result: dict[str, Any] = field(default_factory=dict)


@dataclass
class Shown:
    """A message as people see it now; `user` is set for an ephemeral one (only they see it)."""

    ts: str
    channel: str
    blocks: list[dict[str, Any]]
    text: str
    user: str | None = None
    thread: str | None = None
    metadata: dict[str, Any] | None = None


@dataclass
class Chaos:
    """Faults on `chat.postMessage` at random (seeded), the way a busy Slack fails: the
    post is taken but the connection drops before the answer (`drop`), 429 with
    Retry-After (`throttle`), or a 5xx before anything was taken (`error`)."""

    drop: float = 0.0
    throttle: float = 0.0
    error: float = 0.0
    retry_after: int = 1
    seed: int = 15
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def pick(self) -> str | None:
        roll = self._random.random()
        for fault, chance in (("drop", self.drop), ("throttle", self.throttle),
                              ("error", self.error)):
            if roll < chance:
                self.counts[fault] = self.counts.get(fault, 0) + 1
                return fault
            roll -= chance
        return None


@dataclass
class FakeSlack:
    """Records calls; `fail_next` makes the next call of a method fail like Slack does."""

    calls: list[Call] = field(default_factory=list)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    uploads: list[bytes] = field(default_factory=list)
    socket_acks: list[dict[str, Any]] = field(default_factory=list)
    installs: dict[str, str] = field(default_factory=dict)  # oauth code -> team id
    shown: dict[str, Shown] = field(default_factory=dict)  # by ts
    _failures: dict[str, list[tuple[int, dict[str, Any], dict[str, str]]]] = field(
        default_factory=dict)
    _drops: dict[str, int] = field(default_factory=dict)
    chaos: Chaos | None = None
    # Channels (a DM: D + the user id) whose next posts answer 429, with these Retry-After
    # values (one per post).
    throttled: dict[str, list[int]] = field(default_factory=dict)
    # Called with each chat.postMessage before it is answered (a test may kill its sender).
    on_post: Any = None
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _ts: count[int] = field(default_factory=lambda: count(1))
    _sockets: list[web.WebSocketResponse] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    port: int = 0
    # The client end (its port) of each TCP connection Web API calls came in on.
    connections: set[int] = field(default_factory=set)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_post("/respond/{ts}", self._respond)
        app.router.add_get("/link", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        for socket in self._sockets:
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def fail_next(self, method: str, error: str = "ratelimited", status: int = 200,
                  retry_after: int | None = None) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        self._failures.setdefault(method, []).append(
            (status, {"ok": False, "error": error}, headers))

    def drop_next(self, method: str, times: int = 1) -> None:
        """Take the next call(s) of `method` as usual, then drop the connection before the
        answer: the post is there, but the caller never hears so."""
        self._drops[method] = self._drops.get(method, 0) + times

    def in_channel(self, channel: str) -> list[Shown]:
        """The messages (not ephemeral) posted in a channel, oldest first."""
        return [m for m in self.shown.values() if m.channel == channel and m.user is None]

    def of(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def posted(self) -> list[Call]:
        """Every message shown to someone, in order."""
        return [c for c in self.calls
                if c.method in ("chat.postMessage", "chat.postEphemeral") and not c.failed]

    def refused(self) -> list[Call]:
        """Calls the fake refused for blocks Slack would not take (not `fail_next`)."""
        return [c for c in self.calls if c.result.get("errors")]

    def response_url(self, ts: str) -> str:
        return f"http://127.0.0.1:{self.port}/respond/{ts}"

    def showing(self, value: str, channel: str, user: str) -> Shown | None:
        """The newest message in `channel` that `user` sees with a button (or menu option)
        of this value."""
        for message in reversed(list(self.shown.values())):
            if (message.channel == channel and message.user in (None, user)
                    and any(v == value for v, _, _ in elements(message.blocks))):
                return message
        return None

    def texts(self) -> list[str]:
        """The mrkdwn of every section posted, in order (what people read)."""
        found = []
        for call in self.posted():
            for block in _blocks(call.args):
                if block.get("type") == "section":
                    found.append(block["text"]["text"])
        return found

    async def wait_for(self, method: str, number: int = 1, timeout: float = 10) -> list[Call]:
        async def enough() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: len(self.of(method)) >= number)

        await asyncio.wait_for(enough(), timeout)
        return self.of(method)

    async def wait_for_calls(self, number: int, timeout: float = 10) -> None:
        """Until `number` calls of any method (response_url posts included) came in."""
        async def enough() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: len(self.calls) >= number)

        await asyncio.wait_for(enough(), timeout)

    async def send_envelope(self, envelope: dict[str, Any]) -> dict[str, Any]:
        """Push a Socket Mode envelope to the connected app and wait for its acknowledgement."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: bool(self._sockets)), 10)
        await self._sockets[-1].send_json(envelope)

        async def acked() -> dict[str, Any]:
            async with self._changed:
                await self._changed.wait_for(lambda: any(
                    a.get("envelope_id") == envelope["envelope_id"] for a in self.socket_acks))
            return next(a for a in self.socket_acks
                        if a.get("envelope_id") == envelope["envelope_id"])

        return await asyncio.wait_for(acked(), 10)

    async def _record(self, call: Call) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        peer = request.transport.get_extra_info("peername") if request.transport else None
        if peer:
            self.connections.add(peer[1])
        if request.content_type == "application/json":
            args = await request.json()
        else:
            args = dict(await request.post())
        args.update(request.query)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") or args.get("token")
        call = Call(method, args, token, time.monotonic())
        fault = self.chaos.pick() if self.chaos and method == "chat.postMessage" else None
        if fault == "throttle":
            self.fail_next(method, status=429, retry_after=self.chaos.retry_after
                           if self.chaos else 1)
        elif fault == "error":
            self.fail_next(method, "internal_error", status=503)
        elif fault == "drop":
            self.drop_next(method)
        if method == "chat.postMessage":
            if self.on_post is not None and self.on_post(call) is False:
                call.failed = True  # the sender died before Slack took it
                await self._record(call)
                return _hang_up(request)
            if self.throttled.get(dm_of(str(args.get("channel")))):
                wait = self.throttled[dm_of(str(args.get("channel")))].pop(0)
                self.fail_next(method, status=429, retry_after=wait)
                self._failures[method].insert(0, self._failures[method].pop())
        queued = self._failures.get(method)
        invalid = invalid_blocks(_blocks(args)) if method in _SHOWN else None
        call.failed = bool(queued) or invalid is not None
        if queued:
            status, body, headers = queued.pop(0)
            call.result = body
            await self._record(call)
            return web.json_response(body, status=status, headers=headers)
        if invalid is not None:
            call.result = {"ok": False, "error": "invalid_blocks",
                           "errors": [invalid]}
        else:
            call.result = self._answer(method, args, token, request)
            self._show(method, args, call.result)
        await self._record(call)
        if self._drops.get(method) and not call.failed:
            self._drops[method] -= 1
            call.failed = False  # it was taken; only the answer is lost
            return _hang_up(request)
        return web.json_response(call.result)

    def _show(self, method: str, args: dict[str, Any], result: dict[str, Any]) -> None:
        """Keep the messages as people see them."""
        blocks, text = _blocks(args), str(args.get("text") or "")
        channel, thread = str(args.get("channel")), args.get("thread_ts") or None
        if method == "chat.postMessage":
            metadata = args.get("metadata")
            if isinstance(metadata, str):
                metadata = json.loads(metadata)
            channel = str(result["channel"])  # a post to a user id goes to their DM
            self.shown[result["ts"]] = Shown(result["ts"], channel, blocks, text,
                                             thread=thread, metadata=metadata or None)
        elif method == "chat.postEphemeral":
            ts = result["message_ts"]
            self.shown[ts] = Shown(ts, channel, blocks, text, str(args.get("user")), thread)
        elif method == "chat.update" and str(args.get("ts")) in self.shown:
            before = self.shown[str(args["ts"])]
            self.shown[before.ts] = Shown(before.ts, before.channel, blocks, text,
                                          before.user, before.thread)

    def _answer(self, method: str, args: dict[str, Any], token: str | None,
                request: web.Request) -> dict[str, Any]:
        team = (token or "").rsplit("-", 1)[-1] or TEAM
        match method:
            case "auth.test":
                return {"ok": True, "url": "https://school.slack.com/", "team": "School",
                        "user": "achtje", "team_id": team, "user_id": "UBOT",
                        "bot_id": "BBOT", "is_enterprise_install": False}
            case "chat.postMessage" | "chat.update":
                ts = f"{next(self._ts)}.000100"
                return {"ok": True, "channel": dm_of(str(args.get("channel"))), "ts": ts,
                        "message": {"text": args.get("text"), "ts": ts}}
            case "chat.postEphemeral":
                return {"ok": True, "message_ts": f"{next(self._ts)}.000200"}
            case "views.open" | "views.publish":
                return {"ok": True, "view": {"id": f"V{next(self._ts)}", **_view(args)}}
            case "conversations.open":
                return {"ok": True, "channel": {"id": "D" + str(args.get("users"))}}
            case "conversations.history":
                return self._history(args, lambda m: m.thread in (None, m.ts))
            case "conversations.replies":
                ts = str(args.get("ts"))
                return self._history(args, lambda m: ts in (m.ts, m.thread), newest=False)
            case "conversations.members":
                return {"ok": True, "members": ["U1", "U2", "U3"],
                        "response_metadata": {"next_cursor": ""}}
            case "users.info":
                user = str(args.get("user"))
                return {"ok": True, "user": {"id": user, "name": user.lower(),
                                             **self.users.get(user, {})}}
            case "files.getUploadURLExternal":
                file_id = f"F{next(self._ts)}"
                return {"ok": True, "file_id": file_id,
                        "upload_url": f"http://127.0.0.1:{self.port}/upload/{file_id}"}
            case "files.completeUploadExternal":
                files = args.get("files")
                listed = json.loads(files) if isinstance(files, str) else files or []
                return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")}
                                              for f in listed]}
            case "apps.connections.open":
                return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/link"}
            case "oauth.v2.access":
                if args.get("grant_type") == "refresh_token":
                    return refreshed(self, str(args.get("refresh_token")))
                installed = self.installs.get(str(args.get("code")))
                if installed is None:
                    return {"ok": False, "error": "invalid_code"}
                return {"ok": True, "access_token": f"xoxb-secret-{installed}",
                        "refresh_token": f"xoxe-1-{installed}", "expires_in": TOKEN_LIFETIME,
                        "token_type": "bot", "scope": "commands,chat:write",
                        "bot_user_id": "UBOT", "app_id": "A1",
                        "team": {"id": installed, "name": f"School {installed}"},
                        "enterprise": None, "is_enterprise_install": False,
                        "authed_user": {"id": "U9"}}
        return {"ok": False, "error": "unknown_method"}

    def _history(self, args: dict[str, Any], which: Any, newest: bool = True
                 ) -> dict[str, Any]:
        """Messages of a channel the way conversations.history (newest first) and
        .replies (parent first) list them; metadata only with include_all_metadata."""
        with_metadata = str(args.get("include_all_metadata")).lower() in ("true", "1")
        found = [m for m in self.in_channel(str(args.get("channel"))) if which(m)]
        if newest:
            found.reverse()
        listed = []
        for message in found[: int(args.get("limit") or 100)]:
            item: dict[str, Any] = {"type": "message", "ts": message.ts, "text": message.text}
            if message.thread is not None:
                item["thread_ts"] = message.thread
            replies = sum(1 for m in self.shown.values() if m.thread == message.ts)
            if replies:
                item["thread_ts"], item["reply_count"] = message.ts, replies
            if with_metadata and message.metadata:
                item["metadata"] = message.metadata
            listed.append(item)
        return {"ok": True, "messages": listed, "has_more": False}

    async def _respond(self, request: web.Request) -> web.Response:
        """A response_url: replaces (or answers) the message a button was pressed on."""
        args = await request.json()
        ts = request.match_info["ts"]
        call = Call("respond", {**args, "ts": ts}, None, time.monotonic())
        invalid = invalid_blocks(_blocks(args))
        if invalid is not None:
            call.failed = True
            call.result = {"ok": False, "error": "invalid_blocks", "errors": [invalid]}
        elif args.get("replace_original") and ts in self.shown:
            before = self.shown[ts]
            self.shown[ts] = Shown(ts, before.channel, _blocks(args), str(args.get("text")),
                                   before.user, before.thread)
        await self._record(call)
        if call.failed:
            return web.json_response(call.result, status=400)
        return web.Response(text="ok")

    async def _upload(self, request: web.Request) -> web.Response:
        self.uploads.append(await request.read())
        await self._record(Call("upload", {"file_id": request.match_info["file_id"]}, None,
                                time.monotonic()))
        return web.Response(text="OK")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        await socket.send_json({"type": "hello", "num_connections": 1})
        async with self._changed:
            self._sockets.append(socket)
            self._changed.notify_all()
        async for message in socket:
            if message.type == aiohttp.WSMsgType.TEXT:
                async with self._changed:
                    self.socket_acks.append(json.loads(message.data))
                    self._changed.notify_all()
        return socket


_SHOWN = {"chat.postMessage", "chat.postEphemeral", "chat.update"}


def dm_of(channel: str) -> str:
    """Where a post to `channel` goes: a user id (U..., W...) means the app's DM with that
    person, whose id Slack answers with (here D + the user id, as conversations.open)."""
    return f"D{channel}" if channel[:1] in ("U", "W") else channel


def _hang_up(request: web.Request) -> web.Response:
    """Close the connection without an answer (what the caller sees of a lost answer)."""
    assert request.transport is not None
    request.transport.abort()
    return web.Response(status=204)


def invalid_blocks(blocks: list[dict[str, Any]]) -> str | None:
    """What Slack would refuse in these blocks (the limits of Block Kit), or None."""
    if len(blocks) > 50:
        return f"{len(blocks)} blocks, at most 50"
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    if len(block_ids) != len(set(block_ids)):
        return "a block_id used twice"
    action_ids = []
    for block in blocks:
        kind = block.get("type")
        if kind == "section" and not 1 <= len(block["text"]["text"]) <= 3000:
            return f"a section of {len(block['text']['text'])} characters"
        if kind == "context" and not (
                1 <= len(block["elements"]) <= 10
                and all(1 <= len(e["text"]) <= 3000 for e in block["elements"])):
            return "a context block beyond its limits"
        if kind == "actions":
            if not 1 <= len(block["elements"]) <= 25:
                return f"{len(block['elements'])} elements in an actions block"
            action_ids += [e["action_id"] for e in block["elements"]]
        for value, label, value_limit in elements([block]):
            if not 1 <= len(label) <= 75 or not len(value) <= value_limit:
                return f"a button or option {label!r} beyond its limits"
        for menu in (e for e in block.get("elements", []) if e.get("type") == "static_select"):
            if not 1 <= len(menu["options"]) <= 100:
                return "a menu of more than 100 options"
    if len(action_ids) != len(set(action_ids)):
        return "an action_id used twice in one message"
    return None


def elements(blocks: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    """(value, label, longest value allowed) of every button and menu option."""
    found = []
    for block in blocks:
        for element in block.get("elements", []):
            if element.get("type") == "button":
                found.append((element.get("value", ""), element["text"]["text"], 2000))
            for option in element.get("options", []):
                found.append((option["value"], option["text"]["text"], 150))
    return found


def _blocks(args: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = args.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else list(blocks)


def _view(args: dict[str, Any]) -> dict[str, Any]:
    view = args.get("view") or {}
    return json.loads(view) if isinstance(view, str) else dict(view)


def blocks_of(call: Call) -> list[dict[str, Any]]:
    return _blocks(call.args)


def view_of(call: Call) -> dict[str, Any]:
    return _view(call.args)


def buttons_of(call: Call) -> dict[str, str]:
    """Label -> value of every button in a posted message."""
    found = {}
    for block in blocks_of(call):
        for element in block.get("elements", []):
            if element.get("type") == "button":
                found[element["text"]["text"]] = element["value"]
    return found


def sign(body: str, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack puts on a request: a v0 HMAC-SHA256 signature over time and body."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256)
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": "v0=" + digest.hexdigest()}


_ids = count(1)


@dataclass
class SlackRig:
    """The real adapter on the real web server, and a way to talk to it as Slack does."""

    fake: FakeSlack
    adapter: SlackAdapter
    web: WebServer
    http: aiohttp.ClientSession

    async def post(self, body: str, content_type: str, headers: dict[str, str] | None = None,
                   signed: bool = True) -> aiohttp.ClientResponse:
        sent = {"Content-Type": content_type, **(sign(body) if signed else {}),
                **(headers or {})}
        response = await self.http.post(f"{self.web.url}/slack/events", data=body.encode(),
                                        headers=sent)
        await response.read()
        await self.adapter.settled()
        return response

    async def command(self, text: str, user: str = "U1", channel: str = "C1",
                      team: str = TEAM) -> aiohttp.ClientResponse:
        body = urlencode({
            "token": "legacy", "team_id": team, "team_domain": "school", "channel_id": channel,
            "channel_name": "directmessage" if channel.startswith("D") else "samenwerking",
            "user_id": user, "user_name": user.lower(), "command": "/achtje", "text": text,
            "api_app_id": "A1", "is_enterprise_install": "false",
            "response_url": self.fake.response_url("command"),
            "trigger_id": f"{next(_ids)}.1.trigger",
        })
        return await self.post(body, "application/x-www-form-urlencoded")

    async def press(self, value: str, user: str = "U1", channel: str | None = "D1",
                    ephemeral: bool = False, action_id: str = "achtje_0",
                    team: str = TEAM, trigger: str | None = None) -> aiohttp.ClientResponse:
        """A block_actions payload: a button pressed in a message (or on the Home tab).

        When the fake shows a message in `channel` with that button, the press is on it:
        its ts, whether it is ephemeral, the button's label and action id, and (for a
        message that is not ephemeral) the message itself, as Slack sends them.
        """
        container: dict[str, Any] = (
            {"type": "message", "message_ts": "1.000100", "channel_id": channel,
             "is_ephemeral": ephemeral} if channel else {"type": "view", "view_id": "VHOME"})
        message = self.fake.showing(value, channel, user) if channel else None
        action: dict[str, Any] = {"action_id": action_id, "block_id": "b1", "type": "button",
                                  "value": value, "text": {"type": "plain_text", "text": "x"},
                                  "action_ts": f"{time.time():.6f}"}
        if message is not None:
            container.update(message_ts=message.ts, is_ephemeral=message.user is not None)
            action = {**action, **_pressed_element(message.blocks, value)}
            if action["type"] == "static_select":
                del action["text"], action["value"]  # a menu says which option instead
        payload: dict[str, Any] = {
            "type": "block_actions", "api_app_id": "A1", "token": "legacy",
            "user": {"id": user, "username": user.lower(), "name": user.lower(),
                     "team_id": team},
            "team": {"id": team, "domain": "school"}, "enterprise": None,
            "is_enterprise_install": False, "container": container,
            "trigger_id": trigger or f"{next(_ids)}.1.trigger",
            "response_url": self.fake.response_url(container.get("message_ts", "view")),
            "actions": [action],
        }
        if channel:
            payload["channel"] = {"id": channel, "name": "samenwerking"}
        if message is not None and message.user is None:
            payload["message"] = {"type": "message", "user": "UBOT", "bot_id": "BBOT",
                                  "ts": message.ts, "text": message.text,
                                  "blocks": message.blocks}
            if message.thread:
                payload["message"]["thread_ts"] = message.thread
        return await self.post(urlencode({"payload": json.dumps(payload)}),
                               "application/x-www-form-urlencoded")

    async def submit(self, text: str, reference: str, user: str = "U1",
                     team: str = TEAM) -> aiohttp.ClientResponse:
        """A view_submission of the answer window."""
        payload = {
            "type": "view_submission", "api_app_id": "A1", "token": "legacy",
            "team": {"id": team, "domain": "school"},
            "user": {"id": user, "username": user.lower(), "name": user.lower(),
                     "team_id": team},
            "trigger_id": f"{next(_ids)}.1.trigger", "is_enterprise_install": False,
            "enterprise": None, "response_urls": [],
            "view": {"id": f"V{next(_ids)}", "team_id": team, "type": "modal",
                     "callback_id": "achtje_answer", "private_metadata": reference,
                     "hash": "1.abc", "state": {"values": {"answer": {"text": {
                         "type": "plain_text_input", "value": text}}}}},
        }
        return await self.post(urlencode({"payload": json.dumps(payload)}),
                               "application/x-www-form-urlencoded")

    async def event(self, event: dict[str, Any], event_id: str | None = None,
                    team: str = TEAM, retry: int | None = None) -> aiohttp.ClientResponse:
        body = event_body(event, event_id, team)
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} \
            if retry else {}
        return await self.post(json.dumps(body), "application/json", headers)

    async def dm(self, text: str, user: str = "U1", event_id: str | None = None,
                 retry: int | None = None) -> aiohttp.ClientResponse:
        return await self.event({"type": "message", "channel": "D" + user, "user": user,
                                 "text": text, "ts": f"{time.time():.6f}",
                                 "channel_type": "im"}, event_id, retry=retry)


def _pressed_element(blocks: list[dict[str, Any]], value: str) -> dict[str, Any]:
    """What Slack says of the pressed button, or of the menu and the option chosen."""
    for block in blocks:
        for element in block.get("elements", []):
            if element.get("type") == "button" and element.get("value") == value:
                return {"action_id": element["action_id"], "type": "button",
                        "text": element["text"]}
            for option in element.get("options", []):
                if option["value"] == value:
                    chosen = {"text": option["text"], "value": value}
                    return {"action_id": element["action_id"], "type": "static_select",
                            "selected_option": chosen}
    return {}


def event_body(event: dict[str, Any], event_id: str | None = None,
               team: str = TEAM) -> dict[str, Any]:
    return {
        "token": "legacy", "team_id": team, "api_app_id": "A1", "event": event,
        "type": "event_callback", "event_id": event_id or f"Ev{next(_ids)}",
        "event_time": int(time.time()),
        "authorizations": [{"enterprise_id": None, "team_id": team, "user_id": "UBOT",
                            "is_bot": True, "is_enterprise_install": False}],
    }


@asynccontextmanager
async def slack_rig(engine: Engine, **settings: str) -> AsyncIterator[SlackRig]:
    """The fake Slack, and the real adapter on a web server (port 0) pointed at it."""
    fake = FakeSlack()
    await fake.start()
    values = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
              "ACHTJE_SLACK_API_URL": fake.api_url, **settings}
    web_server = WebServer("127.0.0.1", 0)
    adapter = SlackAdapter(Settings.model_validate(values), engine, web_server)
    await adapter.start()
    # The start's check of the bot token (tests/test_health.py) is not what tests count.
    fake.calls[:] = [call for call in fake.calls if call.method != "auth.test"]
    await web_server.start()
    http = aiohttp.ClientSession()
    try:
        yield SlackRig(fake, adapter, web_server, http)
    finally:
        await http.close()
        await web_server.stop()
        await adapter.stop()
        await fake.stop()
    # Whatever happened in the test: Slack never had to refuse blocks beyond its limits.
    assert fake.refused() == [], [c.result for c in fake.refused()]


@asynccontextmanager
async def bound_rig(engine: Engine, partnership_id: int, sessions: async_sessionmaker[Any],
                    now: datetime) -> AsyncIterator[SlackRig]:
    """`slack_rig` with channel C1 of workspace T1 bound to the partnership."""
    async with sessions() as session, session.begin():
        session.add(ChannelBinding(partnership_id=partnership_id, platform="slack",
                                   channel_ref="T1:C1", created_at=now))
    async with slack_rig(engine) as rig:
        yield rig


TOKEN_LIFETIME = 12 * 3600  # a bot token's lifetime in an app with token rotation on


def refreshed(fake: FakeSlack, refresh_token: str) -> dict[str, Any]:
    """`oauth.v2.access` with `grant_type=refresh_token`: a new bot token and refresh token,
    both ending in the workspace's id like every token of this fake."""
    team, n = refresh_token.rsplit("-", 1)[-1], next(fake._ts)
    return {"ok": True, "token_type": "bot", "access_token": f"xoxe.xoxb-1-r{n}-{team}",
            "refresh_token": f"xoxe-1-r{n}-{team}", "expires_in": TOKEN_LIFETIME,
            "scope": "commands,chat:write", "bot_user_id": "UBOT", "app_id": "A1",
            "team": {"id": team}, "enterprise": None, "is_enterprise_install": False}

"""A fake Telegram Bot API: a real aiohttp server on 127.0.0.1, port 0; and the real
adapter running against it, driven the way Telegram users would.

It answers the methods achtje uses under /bot<token>/<method>, records every call, hands
out queued updates to getUpdates (honouring `offset` and `timeout`), and can be told to
answer 429 (flood control), 403 (blocked) or "group migrated" for a chat. Like a real bot,
it runs in privacy mode: of what people say in a group it hands the bot only commands,
replies to the bot's messages and lines that mention the bot; and the reply field of a
selective ForceReply opens only for the people it targets (`Bot.answer`).
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from adapters.telegram import TelegramAdapter
from adapters.telegram.updates import SECRET_HEADER, WEBHOOK_PATH
from adapters.web import WebServer
from bot.engine import Engine

TOKEN = "123456:fake-token"
BOT = {"id": 123456, "is_bot": True, "first_name": "achtje", "username": "achtje_test_bot",
       "can_join_groups": True, "can_read_all_group_messages": False,
       "supports_inline_queries": False}
MAX_LONG_POLL = 2.0  # seconds; tests stay fast even when they ask for more
_JSON_FIELDS = {"chat_id", "user_id", "message_id", "offset", "limit", "timeout",
                "reply_markup", "commands", "scope", "allowed_updates", "entities",
                "reply_parameters"}
_SENDS = {"sendMessage", "sendPhoto", "editMessageText", "editMessageReplyMarkup"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    refused: bool = False  # answered with an error (429, 403, `fail_next`, ...)

    @property
    def chat(self) -> int | None:
        chat = self.params.get("chat_id")
        return int(chat) if chat is not None else None

    @property
    def text(self) -> str:
        return str(self.params.get("text") or self.params.get("caption") or "")

    @property
    def buttons(self) -> list[list[dict[str, Any]]]:
        markup = self.params.get("reply_markup") or {}
        return list(markup.get("inline_keyboard", []))

    @property
    def reply_to(self) -> int | None:
        """The message this one answers (its place in a thread)."""
        found = (self.params.get("reply_parameters") or {}).get("message_id")
        return int(found) if found is not None else None

    @property
    def mentions(self) -> list[tuple[str, int]]:
        """(name as shown, user id) of every text mention in the message."""
        return [(_utf16_slice(self.text, e["offset"], e["length"]), e["user"]["id"])
                for e in self.params.get("entities") or [] if e["type"] == "text_mention"]


@dataclass
class User:
    id: int
    first_name: str
    language_code: str | None = "nl"
    is_bot: bool = False
    username: str | None = None

    def as_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot,
                                 "first_name": self.first_name}
        if self.language_code:
            found["language_code"] = self.language_code
        if self.username:
            found["username"] = self.username
        return found


@dataclass
class FakeTelegram:
    token: str = TOKEN
    calls: list[Call] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    # Chats that answer 403, 429 (a list of retry_after values, one per refused call),
    # or "migrated to a supergroup".
    blocked: set[int] = field(default_factory=set)
    flood: dict[int, list[int]] = field(default_factory=dict)
    migrated: dict[int, int] = field(default_factory=dict)
    # (group, user) pairs for which getChatMember says "member".
    members: set[tuple[int, int]] = field(default_factory=set)
    confirmed: int = 0  # every update below this id has been fetched and confirmed
    messages: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    # ForceReply markups of the bot's messages (Telegram shows them, but no Message has them).
    force_replies: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    privacy: bool = True
    withheld: list[dict[str, Any]] = field(default_factory=list)  # what privacy mode kept back
    # Refusals (status, description) for the next calls of a method, see `fail_next`.
    failing: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    # Faults at random (seeded) on sendMessage, as a busy Telegram fails: the share of
    # calls that get a flood wait (429, retry_after 1) and a 502 before anything is taken.
    chaos_flood: float = 0.0
    chaos_error: float = 0.0
    chaos_counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)
        self._random = random.Random(15)
        self._update_ids = itertools.count(1000)
        self._arrived = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> str:
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self._api)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        self._arrived.set()  # end a waiting long poll, or the server waits for it
        if self._runner is not None:
            await self._runner.cleanup()

    def fail_next(self, method: str, status: int = 400,
                  description: str = "Bad Request: wrong file identifier") -> None:
        """Refuse the next call of `method` the way Telegram does."""
        self.failing.setdefault(method, []).append((status, description))

    # What tests look at

    def sent(self, chat: int | None = None, methods: set[str] | None = None) -> list[Call]:
        """Messages sent (or edited), optionally only in one chat."""
        return [c for c in self.calls if c.method in (methods or _SENDS)
                and (chat is None or c.chat == chat)]

    def called(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(self, check: Callable[[], Any], what: str = "", timeout: float = 10.0
                       ) -> Any:
        """Wait until `check()` is truthy; fail with the calls so far if it never is."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not (found := check()):
            if loop.time() > deadline:
                log = "\n".join(f"{c.method} {c.params}" for c in self.calls[-20:])
                raise AssertionError(f"never happened: {what}\nlast calls:\n{log}")
            await asyncio.sleep(0.01)
        return found

    # Updates the tests queue

    def queue(self, update: dict[str, Any]) -> int:
        self.updates.append(update)
        self._arrived.set()
        return int(update["update_id"])

    def text_update(self, user: User, chat: int, text: str, update_id: int | None = None,
                    reply_to: dict[str, Any] | None = None) -> dict[str, Any]:
        """A line someone typed; `reply_to`: the message it replies to."""
        message: dict[str, Any] = {
            "message_id": next(self._ids), "date": 1_790_000_000, "chat": _chat(chat, user),
            "from": user.as_json(), "text": text,
        }
        if text.startswith("/"):
            length = len(text.split(" ", 1)[0].encode("utf-16-le")) // 2
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        elif text.startswith("@"):
            length = len(text.split(" ", 1)[0].encode("utf-16-le")) // 2
            message["entities"] = [{"type": "mention", "offset": 0, "length": length}]
        if reply_to is not None:
            message["reply_to_message"] = _quoted(reply_to)
        self.messages[(chat, message["message_id"])] = message
        return {"update_id": update_id or next(self._update_ids), "message": message}

    def anonymous_update(self, chat: int, text: str) -> dict[str, Any]:
        """A command a group admin sends while "Remain anonymous" is on: as Telegram sends
        it, from its placeholder bot, with the group itself as `sender_chat`."""
        update = self.text_update(ANONYMOUS_ADMIN, chat, text)
        update["message"]["sender_chat"] = _chat(chat)
        return update

    def forwards(self, update: dict[str, Any]) -> bool:
        """Whether Telegram hands this update to a bot in privacy mode."""
        message = update.get("message")
        if not self.privacy or message is None or message["chat"]["type"] == "private":
            return True
        if "text" not in message or message["text"].startswith("/"):
            return True  # commands, and service messages such as a group migration
        parent = message.get("reply_to_message") or {}
        mentioned = any(
            e["type"] == "mention"
            and _utf16_slice(message["text"], e["offset"], e["length"]) == f"@{BOT['username']}"
            for e in message.get("entities", []))
        return parent.get("from", {}).get("id") == BOT["id"] or mentioned

    def prompted(self, chat: int, user: User) -> dict[str, Any] | None:
        """The bot's newest message in `chat` whose reply field opened for `user` (a
        ForceReply, targeted at them when selective), as a Telegram app would offer it."""
        for key in sorted(self.force_replies, key=lambda k: -k[1]):
            if key[0] != chat:
                continue
            message = self.messages[key]
            if not self.force_replies[key].get("selective"):
                return message
            parent = message.get("reply_to_message") or {}
            named = {e["user"]["id"] for e in message.get("entities", [])
                     if e["type"] == "text_mention"}
            if parent.get("from", {}).get("id") == user.id or user.id in named:
                return message
        return None

    def press_updates(self, user: User, chat: int, *labels: str) -> list[dict[str, Any]]:
        """Taps on several buttons of the newest message in `chat` that shows the first,
        all made on that message as it is now (before the bot answers any): a double tap,
        or one button and then another."""
        message, _ = self.button(chat, labels[0])
        rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
        data = {b["text"]: b["callback_data"] for row in rows for b in row}
        return [self.press_update(user, message, data[label]) for label in labels]

    def press_update(self, user: User, message: dict[str, Any], data: str,
                     update_id: int | None = None) -> dict[str, Any]:
        """A tap on a button of `message` (as the bot sent it), carrying `data`."""
        return {"update_id": update_id or next(self._update_ids), "callback_query": {
            "id": str(next(self._ids)), "from": user.as_json(), "chat_instance": "ci",
            "data": data, "message": copy.deepcopy(message),
        }}

    def button(self, chat: int, label: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """The newest message in `chat` that still shows a button `label`, and the button."""
        for (in_chat, _), message in sorted(self.messages.items(), key=lambda m: -m[0][1]):
            rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
            for button in (b for row in rows for b in row):
                if in_chat == chat and button["text"] == label:
                    return message, button
        raise LookupError(f"no button {label!r} in chat {chat}")

    def migrate_update(self, old: int, new: int, user: User) -> dict[str, Any]:
        return {"update_id": next(self._update_ids), "message": {
            "message_id": next(self._ids), "date": 1_790_000_000, "chat": _chat(old, user),
            "from": user.as_json(), "migrate_to_chat_id": new,
        }}

    def blocked_update(self, user: User, status: str = "kicked") -> dict[str, Any]:
        return {"update_id": next(self._update_ids), "my_chat_member": {
            "chat": _chat(user.id, user), "from": user.as_json(), "date": 1_790_000_000,
            "old_chat_member": {"status": "member", "user": BOT},
            "new_chat_member": {"status": status, "user": BOT, "until_date": 0}
            if status == "kicked" else {"status": status, "user": BOT},
        }}

    # The API

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(404, "Not Found")
        method = request.match_info["method"]
        params = await _params(request)
        call = Call(method, params)
        self.calls.append(call)
        if method == "getUpdates":
            return _ok(await self._get_updates(params))
        if method == "sendMessage" and (self.chaos_flood or self.chaos_error):
            roll = self._random.random()
            if roll < self.chaos_flood:
                self.chaos_counts["flood"] = self.chaos_counts.get("flood", 0) + 1
                return _error(429, "Too Many Requests: retry after 1", retry_after=1)
            if roll < self.chaos_flood + self.chaos_error:
                self.chaos_counts["error"] = self.chaos_counts.get("error", 0) + 1
                return _error(502, "Bad Gateway")
        if self.failing.get(method):
            call.refused = True
            return _error(*self.failing[method].pop(0))
        refused = self._refusal(method, params)
        if refused is not None:
            call.refused = True
            return refused
        handler = getattr(self, f"_{method}", None)
        if handler is None:
            return _ok(True)  # setMyCommands, setWebhook, deleteWebhook, answerCallbackQuery
        return _ok(handler(params))

    def _refusal(self, method: str, params: dict[str, Any]) -> web.Response | None:
        if method not in _SENDS or "chat_id" not in params:
            return None
        chat = int(params["chat_id"])
        if chat in self.blocked:
            return _error(403, "Forbidden: bot was blocked by the user")
        if self.flood.get(chat):
            wait = self.flood[chat].pop(0)
            return _error(429, f"Too Many Requests: retry after {wait}", retry_after=wait)
        if chat in self.migrated:
            return _error(400, "Bad Request: group chat was upgraded to a supergroup chat",
                          migrate_to_chat_id=self.migrated[chat])
        return None

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        self.confirmed = max(self.confirmed, offset)
        self.updates = [u for u in self.updates if u["update_id"] >= offset]
        if not self.updates:
            self._arrived.clear()
            wait = min(float(params.get("timeout") or 0), MAX_LONG_POLL)
            try:
                await asyncio.wait_for(self._arrived.wait(), wait)
            except TimeoutError:
                return []
        return self.updates[: int(params.get("limit") or 100)]

    def _getMe(self, _params: dict[str, Any]) -> dict[str, Any]:
        return BOT

    def _getChatMember(self, params: dict[str, Any]) -> dict[str, Any]:
        pair = (int(params["chat_id"]), int(params["user_id"]))
        user = {"id": pair[1], "is_bot": False, "first_name": "x"}
        return {"status": "member" if pair in self.members else "left", "user": user}

    def _sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        found = {"text": params["text"]}
        if params.get("entities"):
            found["entities"] = params["entities"]
        return self._store(params, found)

    def _sendPhoto(self, params: dict[str, Any]) -> dict[str, Any]:
        photo = [{"file_id": "p1", "file_unique_id": "p1", "width": 10, "height": 10}]
        found = {"photo": photo}
        if params.get("caption"):
            found["caption"] = params["caption"]
        return self._store(params, found)

    def _editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self.messages[(int(params["chat_id"]), int(params["message_id"]))]
        message["text"] = params["text"]
        message.pop("entities", None)
        if params.get("entities"):
            message["entities"] = params["entities"]
        message.pop("reply_markup", None)
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        return message

    def _editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self.messages[(int(params["chat_id"]), int(params["message_id"]))]
        message.pop("reply_markup", None)
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        return message

    def _store(self, params: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        chat = int(params["chat_id"])
        message = {"message_id": next(self._ids), "date": 1_790_000_000,
                   "chat": _chat(chat), "from": BOT, **body}
        markup = params.get("reply_markup") or {}
        if markup.get("force_reply"):
            self.force_replies[(chat, message["message_id"])] = markup
        elif markup:
            message["reply_markup"] = markup
        answered = (params.get("reply_parameters") or {}).get("message_id")
        if answered is not None and (chat, int(answered)) in self.messages:
            message["reply_to_message"] = _quoted(self.messages[(chat, int(answered))])
        params["message_id"] = message["message_id"]
        self.messages[(chat, message["message_id"])] = message
        return message


def _quoted(message: dict[str, Any]) -> dict[str, Any]:
    """A message as Telegram quotes it in a reply: without its own reply."""
    return {k: v for k, v in copy.deepcopy(message).items() if k != "reply_to_message"}


def _utf16_slice(text: str, offset: int, length: int) -> str:
    units = text.encode("utf-16-le")
    return units[2 * offset:2 * (offset + length)].decode("utf-16-le")


def _chat(chat: int, user: User | None = None) -> dict[str, Any]:
    if chat > 0:
        return {"id": chat, "type": "private", "first_name": user.first_name if user else "x"}
    kind = "supergroup" if str(chat).startswith("-100") else "group"
    return {"id": chat, "type": kind, "title": "Leerlab"}


async def _params(request: web.Request) -> dict[str, Any]:
    form = await request.post()
    params: dict[str, Any] = {}
    for key, value in form.items():
        if not isinstance(value, str):  # an uploaded file
            params[key] = value.file.read()
        elif key in _JSON_FIELDS:
            try:
                params[key] = json.loads(value)
            except ValueError:
                params[key] = value
        else:
            params[key] = value
    return params


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(code: int, description: str, **parameters: Any) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=code)


# The adapter running against the fake

ANNA = User(111, "Anna", "nl")
# Telegram's stand-in for a group admin who posts anonymously (its real id and name).
ANONYMOUS_ADMIN = User(1087968824, "Group", None, is_bot=True, username="GroupAnonymousBot")
BOB = User(222, "Bob", "en")
GROUP = -1001234567
SECRET = "s3cret-Token_1"


@dataclass
class Bot:
    """The adapter running against the fake, and ways to act as a Telegram user."""

    fake: FakeTelegram
    adapter: TelegramAdapter
    web: WebServer | None

    async def deliver(self, update: dict[str, Any], secret: str | None = SECRET) -> list[Call]:
        """Hand one update to the bot, wait until it is handled; the API calls it caused.
        An update privacy mode keeps from the bot causes none."""
        before = len(self.fake.calls)
        if not self.fake.forwards(update):
            self.fake.withheld.append(update)
            return []
        if self.web is None:
            update_id = self.fake.queue(update)
            await self.fake.wait_for(lambda: self.fake.confirmed > update_id,
                                     f"update {update_id} fetched")
        else:
            assert await self.post(update, secret) == 200
        await self.adapter.app.update_queue.join()
        return [c for c in self.fake.calls[before:] if c.method != "getUpdates"]

    async def post(self, update: dict[str, Any], secret: str | None) -> int:
        assert self.web is not None
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        async with aiohttp.ClientSession() as http, http.post(
            self.web.url + WEBHOOK_PATH, json=update, headers=headers
        ) as response:
            return response.status

    async def deliver_together(self, updates: list[dict[str, Any]]) -> list[Call]:
        """Hand several updates to the bot in one batch (one getUpdates answer, or webhook
        calls at once); wait until all are handled. The API calls they caused."""
        before = len(self.fake.calls)
        if self.web is None:
            last = max(self.fake.queue(update) for update in updates)
            await self.fake.wait_for(lambda: self.fake.confirmed > last, f"update {last} fetched")
        else:
            statuses = await asyncio.gather(*(self.post(u, SECRET) for u in updates))
            assert set(statuses) == {200}
        await self.adapter.app.update_queue.join()
        return [c for c in self.fake.calls[before:] if c.method != "getUpdates"]

    async def say(self, user: User, text: str, chat: int | None = None) -> list[Call]:
        return await self.deliver(self.fake.text_update(user, chat or user.id, text))

    async def answer(self, user: User, text: str, chat: int) -> list[Call]:
        """Type into the reply field the bot opened for `user` in a group: a reply to its
        question. Fails when no question of the bot's prompts them."""
        question = self.fake.prompted(chat, user)
        if question is None:
            raise AssertionError(f"nothing in chat {chat} asks {user.first_name} to reply")
        return await self.deliver(self.fake.text_update(user, chat, text, reply_to=question))

    async def press(self, user: User, label: str, chat: int | None = None) -> list[Call]:
        message, button = self.fake.button(chat or user.id, label)
        return await self.deliver(self.fake.press_update(user, message, button["callback_data"]))


async def running(engine: Engine, mode: str) -> AsyncIterator[Bot]:
    fake = FakeTelegram()
    await fake.start()
    web = WebServer("127.0.0.1", 0) if mode == "webhook" else None
    adapter = TelegramAdapter(
        engine, fake.token, api_url=fake.url, web=web, poll_timeout=1, max_retries=1,
        webhook_url="https://achtje.example/telegram/webhook" if web else None,
        webhook_secret=SECRET if web else None,
    )
    await adapter.start()
    if web is not None:
        await web.start()
    try:
        yield Bot(fake, adapter, web)
    finally:
        await adapter.stop()
        if web is not None:
            await web.stop()
        await fake.stop()
    # Whatever happened in the test: no button ever carried more than Telegram allows.
    for call in fake.calls:
        for button in (b for row in call.buttons for b in row if "callback_data" in b):
            assert len(button["callback_data"].encode()) <= 64, button

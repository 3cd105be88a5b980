"""achtje on Microsoft Teams: activities arrive on POST /api/messages of the shared HTTP
server, each checked (`auth.TokenValidator`) before anything else happens, parsed with the
Microsoft 365 Agents SDK's activity model, translated, answered by the engine, and the
replies rendered and posted through the Bot Connector (`connector.Connector`).

Every activity refreshes the stored conversation references (`bot.store.teams`), so the
scheduler can reach a chat or a person later. Teams has no private (ephemeral) messages
in a group: a reply only the person may see goes to their personal chat with the bot,
which a bot can open on its own (so no invitation in the channel is needed).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from aiohttp import web
from microsoft_agents.activity import Activity
from pydantic import ValidationError

from adapters.base import Posts, apology, chosen, uncertain_after_part
from adapters.teams import render as rendering
from adapters.teams.auth import Refused, TokenValidator
from adapters.teams.connector import Connector
from adapters.teams.limits import LIMITS
from adapters.teams.tokens import TokenProvider
from adapters.teams.translate import (
    PLATFORM,
    chat_ref,
    is_channel,
    kind_of,
    pressed_label,
    tenant_of,
    to_incoming,
    user_ref,
)
from adapters.web import WebServer
from bot.engine import Engine
from bot.messages import (
    FIRST,
    DeliveryError,
    DeliveryUncertain,
    Incoming,
    Parts,
    Reply,
    Text,
    Unreachable,
    locale_language,
)
from bot.profile import set_reachable
from bot.store import teams as store

logger = logging.getLogger(__name__)
PATH = "/api/messages"
MESSAGE = "application/vnd.microsoft.activity.message"


class TeamsAdapter:
    """The `Adapter` for Teams: answers activities, delivers replies."""

    platform = PLATFORM
    takes_parts = True
    looks_up = False  # a bot cannot list the messages it posted
    limits = LIMITS
    invites_in_channel = False  # a bot can open a personal chat itself

    def __init__(self, engine: Engine, *, app_id: str, validator: TokenValidator,
                 tokens: TokenProvider, web: WebServer) -> None:
        self.engine = engine
        self.app_id = app_id
        self.validator = validator
        self.connector = Connector(tokens)
        web.add_route("POST", PATH, self._on_request)

    async def start(self) -> None:
        logger.info("teams adapter listening on %s", PATH)

    async def stop(self) -> None:
        await self.connector.close()

    # Activities in

    async def _on_request(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            activity = Activity.model_validate(body)
        except (ValueError, ValidationError):
            logger.info("teams: a request that is no activity was ignored")
            return web.json_response({"error": "not an activity"}, status=400)
        try:
            await self.validator.validate(request.headers.get("Authorization"),
                                          activity.service_url)
        except Refused as exc:
            logger.warning("teams: refused a request: %s", exc)
            return web.json_response({"error": "unauthorized"}, status=401)
        card: Activity | None = None
        try:
            card = await self._handle(activity)
        except Exception:
            logger.exception("teams: could not handle a %s activity", activity.type)
            await self._apologise(activity)
        if activity.type == "invoke":
            # Action.Execute: the answer replaces the pressed card (or leaves it be).
            if card is not None:
                return web.json_response({"statusCode": 200, "type": rendering.CARD,
                                          "value": card})
            return web.json_response({"statusCode": 200, "type": MESSAGE, "value": ""})
        return web.Response(status=200)

    async def _handle(self, activity: Activity) -> Any:
        """Handles one activity; returns the card that replaces a card pressed with
        Action.Execute, if it should change."""
        await self._remember(activity)
        if activity.type == "installationUpdate" and (activity.action or "").startswith(
                "remove"):
            await self._removed(activity)
            return None
        if activity.type == "conversationUpdate" and any(
                member.id == (activity.recipient.id if activity.recipient else None)
                for member in activity.members_removed or []):
            await self._removed(activity)  # the bot was taken out of this team or chat
            return None
        incoming = to_incoming(activity)
        if incoming is None:
            return None
        if incoming.direct:
            await self._reachable(incoming.user, True)
        outcome = await self.engine.handle(incoming)
        card = None
        if (incoming.action is not None and incoming.direct
                and outcome.press_took_effect(incoming)):
            text = chosen(self.engine.content, outcome.language, pressed_label(activity))
            if text is not None and activity.type == "invoke":
                card = rendering.chosen_card(text)["attachments"][0]["content"]
            elif text is not None and incoming.message:
                await self._show_pressed(activity, incoming.message, text)
        await self._deliver(incoming, activity, outcome.shown, outcome.language)
        return card

    async def _remember(self, activity: Activity) -> None:
        """Store how to reach this chat and this person again."""
        chat, user = chat_ref(activity), user_ref(activity)
        if not activity.service_url or chat is None:
            return
        tenant = tenant_of(activity)
        bot = activity.recipient.id if activity.recipient else None
        personal = kind_of(activity) == "personal"
        member = activity.from_property.id if activity.from_property else None
        now = self.engine.clock()
        async with self.engine.sessions() as session, session.begin():
            await store.remember(session, chat, store.Reference(
                activity.service_url, tenant, chat, None, bot), now)
            if user is not None and activity.type in ("message", "invoke",
                                                      "installationUpdate"):
                await store.remember(session, user, store.Reference(
                    activity.service_url, tenant, chat if personal else None, member, bot), now)

    async def _removed(self, activity: Activity) -> None:
        """The app was removed from a chat: nobody there is to be written to."""
        chat, user = chat_ref(activity), user_ref(activity)
        if kind_of(activity) == "personal" and user is not None:
            await self._reachable(user, False)
        if chat is not None:
            async with self.engine.sessions() as session, session.begin():
                await store.forget(session, chat)

    async def _reachable(self, user: str, can_write: bool) -> None:
        if await set_reachable(self.engine.sessions, PLATFORM, user, can_write,
                               self.engine.clock()):
            logger.info("teams user %s is %s", user,
                        "reachable again" if can_write else "unreachable")

    async def _show_pressed(self, activity: Activity, message: str, text: str) -> None:
        """In a personal chat a pressed question shows the choice instead of its buttons
        (an update of the card's message; Action.Execute answers with the card instead)."""
        if not activity.service_url or activity.conversation is None:
            return
        try:
            await self.connector.update(activity.service_url, activity.conversation.id,
                                        message, rendering.chosen_card(text))
        except DeliveryError as exc:
            logger.warning("teams: could not show the choice: %r", exc)

    async def _deliver(self, incoming: Incoming, activity: Activity,
                       replies: list[Reply], lang: str) -> None:
        if incoming.direct:
            await self._send_logged(incoming.chat, replies, lang)
            return
        public = [reply for reply in replies if not reply.private]
        private = [reply for reply in replies if reply.private]
        conversation = activity.conversation.id if activity.conversation else incoming.chat
        if public:
            await self._send_logged(conversation, public, lang)
        if private:
            try:
                await self.send_direct(incoming.user, private, lang=lang)
            except DeliveryError as exc:
                logger.warning("teams: could not reach %s privately: %r", incoming.user, exc)

    async def _send_logged(self, chat: str, replies: Sequence[Reply], lang: str) -> None:
        try:
            await self.send(chat, replies, lang=lang)
        except DeliveryError as exc:
            logger.warning("teams: could not answer in %s: %r", chat, exc)

    async def _apologise(self, activity: Activity) -> None:
        chat = chat_ref(activity)
        if chat is None or kind_of(activity) != "personal":
            return
        lang = locale_language(activity.locale)
        await self._send_logged(chat, [apology(self.engine.content, lang)], lang)

    # Messages out

    async def send(self, chat: str, replies: Sequence[Reply], *, parts: Parts | None = None,
                   lang: str = "nl") -> None:
        """Post replies in a chat (personal, group or channel) by its conversation id; a
        channel thread is "<channel>;messageid=<id>"."""
        base = chat.split(";messageid=", 1)[0]
        async with self.engine.sessions() as session:
            ref = await store.reference(session, base)
        if ref is None:
            raise Unreachable(f"no Teams conversation reference for {base}")
        await self._post(ref.service_url, chat, replies, parts, lang)

    async def send_direct(self, user: str, replies: Sequence[Reply], *,
                          parts: Parts | None = None, lang: str = "nl") -> None:
        """A person's personal chat with the bot, opened first when there is none yet."""
        async with self.engine.sessions() as session:
            ref = await store.reference(session, user)
        if ref is None:
            raise Unreachable(f"no Teams reference for {user}")
        try:
            conversation = ref.conversation_id or await self._open_chat(user, ref)
            await self._post(ref.service_url, conversation, replies, parts, lang)
        except Unreachable:
            await self._reachable(user, False)
            raise

    async def _open_chat(self, user: str, ref: store.Reference) -> str:
        if ref.member_id is None:
            raise Unreachable(f"no Teams member id for {user}")
        params: dict[str, Any] = {"isGroup": False, "members": [{"id": ref.member_id}],
                                  "tenantId": ref.tenant_id,
                                  "channelData": {"tenant": {"id": ref.tenant_id}}}
        if ref.bot_id:
            params["bot"] = {"id": ref.bot_id}
        conversation = await self.connector.create_conversation(ref.service_url, params)
        async with self.engine.sessions() as session, session.begin():
            await store.remember(session, user, store.Reference(
                ref.service_url, ref.tenant_id, conversation, ref.member_id, ref.bot_id),
                self.engine.clock())
        return conversation

    async def _post(self, service_url: str, chat: str, replies: Sequence[Reply],
                    parts: Parts | None, lang: str) -> None:
        """Each reply as one or more messages (a long text is cut), each one part of a
        scheduled send. `thread_of=FIRST` answers in the thread of this send's first
        message, in a team channel (the only kind of Teams chat with threads)."""
        if parts is not None and parts.doubt:
            raise DeliveryUncertain("Teams cannot tell whether the message arrived")
        posts = _Posts(parts)
        labels = rendering.labels_for(self.engine.content, lang)
        with uncertain_after_part(posts):
            for reply in replies:
                target = chat
                if reply.thread_of is not None and is_channel(chat) and ";" not in chat:
                    thread = posts.first if reply.thread_of == FIRST else reply.thread_of
                    if thread:
                        target = f"{chat};messageid={thread}"
                activities = rendering.render(reply, labels)
                if reply.edit_of and isinstance(reply, Text):  # one message replaces one
                    activities = [rendering.text_message(reply.text, reply.mentions)]
                for activity in activities:
                    if rendering.too_big(activity):
                        raise DeliveryError(f"a {type(reply).__name__} too big for Teams")
                    part = await posts.start()
                    if part is None:
                        continue
                    if reply.edit_of:
                        await self.connector.update(service_url, target, reply.edit_of,
                                                    activity)
                        sent = reply.edit_of
                    else:
                        sent = await self.connector.send(service_url, target, activity)
                    posts.posted(chat, sent, part)


class _Posts(Posts):
    """`Posts`, also keeping the id of this send's first message (sent now, or out
    already in an earlier attempt): a reply with `thread_of=FIRST` answers it."""

    def __init__(self, parts: Parts | None) -> None:
        super().__init__(parts)
        self.first: str | None = None

    def skipped(self, chat: str, ref: str) -> None:
        super().skipped(chat, ref)
        self.first = self.first or ref

    def posted(self, chat: str, ref: object = None, part: int | None = None) -> None:
        super().posted(chat, ref, part)
        self.first = self.first or (str(ref) if ref else None)

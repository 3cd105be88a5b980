"""achtje on Telegram: python-telegram-bot's `Application`, run inside our own event loop.

Updates arrive by long polling, or by webhook on the shared HTTP server when a webhook URL
is configured. Every update goes through one handler: translate it, let the engine decide,
render the replies. Conversation state lives in the engine's database, never in PTB's
`user_data` or `ConversationHandler`; the job queue is not used.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import httpx
from telegram import Bot, BotCommand, Message, Update
from telegram.error import ChatMigrated, InvalidToken, TelegramError
from telegram.ext import Application, ApplicationBuilder, TypeHandler
from telegram.request import HTTPXRequest

from adapters.base import Posts, apology, chosen, uncertain_after_part
from adapters.telegram import chats, delivery, updates
from adapters.telegram import render as rendering
from adapters.telegram.limits import LIMITS, ChatRateLimiter, ChatUpdateProcessor
from adapters.telegram.translate import PLATFORM, anonymous_command, to_incoming
from adapters.web import WebServer
from bot import registry
from bot.engine import Engine
from bot.messages import (
    FIRST,
    DeliveryError,
    DeliveryUncertain,
    Incoming,
    Invitation,
    Parts,
    Reply,
    Text,
    Unreachable,
    locale_language,
)
from bot.privacy.redact import protect
from bot.settings import SettingsError
from bot.store import telegram as store

logger = logging.getLogger(__name__)



class TelegramAdapter:
    """The `Adapter` for Telegram: runs the bot, answers updates, delivers replies."""

    platform = PLATFORM
    # Scheduled sends take `parts`; Telegram has no way to find a message whose answer was
    # lost, so such a message follows the per-kind rule (docs/delivery.md).
    takes_parts = True
    looks_up = False
    limits = LIMITS
    # A bot cannot start a private chat on Telegram, so people it has not met yet need a
    # check-in announced in their group, with a button that opens the private chat.
    invites_in_channel = True

    def __init__(
        self,
        engine: Engine,
        token: str,
        *,
        api_url: str = "https://api.telegram.org",
        web: WebServer | None = None,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        poll_timeout: int = 30,
        max_retries: int = 3,
    ) -> None:
        if webhook_url and (web is None or not webhook_secret):
            raise SettingsError("Telegram webhook mode needs ACHTJE_TELEGRAM_WEBHOOK_SECRET")
        protect(token, webhook_secret)  # httpx logs request URLs, and the token is in them
        self.engine = engine
        self.webhook_url = webhook_url
        self._secret = (webhook_secret or "").encode()
        self.poll_timeout = poll_timeout
        self.api_url = api = api_url.rstrip("/")
        # Four HTTP clients (the app's bot and the scheduled one, each with its getUpdates
        # client) share one TLS context: each would load the CA certificates anew.
        tls = httpx.create_ssl_context()
        builder = (
            ApplicationBuilder()
            .token(token)
            .request(_request(tls, APP_CONNECTIONS))
            .get_updates_request(_request(tls, 1))
            .base_url(f"{api}/bot")
            .base_file_url(f"{api}/file/bot")
            .rate_limiter(ChatRateLimiter(max_retries=max_retries))
            .concurrent_updates(ChatUpdateProcessor())
            .job_queue(None)
        )
        if webhook_url:
            builder = builder.updater(None)
        # Scheduled sends go through a bot of their own, without PTB's rate limiter: that
        # one sleeps out a flood wait inside the call and halts every other request
        # meanwhile. The sender keeps the limits and puts a refused message back instead.
        self.scheduled_bot = Bot(token, base_url=f"{api}/bot", base_file_url=f"{api}/file/bot",
                                 request=_request(tls, 1), get_updates_request=_request(tls, 1))
        self.app: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        self.app.add_handler(TypeHandler(Update, self._on_update))
        self.app.add_error_handler(self._on_error)
        if webhook_url and web is not None:
            web.add_route("POST", updates.WEBHOOK_PATH,
                          updates.webhook(self.app, self._secret))

    @property
    def username(self) -> str:
        """The bot's @username (known once started), for deep links and `/cmd@bot`."""
        return str(self.app.bot.username)

    async def start(self) -> None:
        """Connect (getMe), set the command menu, and start polling or the webhook.

        Raises SettingsError, naming what to check, when Telegram refuses the token or
        cannot be reached; nothing is left running then.
        """
        try:
            await self._start()
        except TelegramError as exc:
            await self._close_quietly()
            if isinstance(exc, InvalidToken):
                raise SettingsError("the telegram bot could not start: Telegram refused "
                                    "TELEGRAM_BOT_TOKEN (@BotFather shows the right one)"
                                    ) from None
            raise SettingsError(f"the telegram bot could not start: no answer from the Bot "
                                f"API at {self.api_url} ({exc.message}); check the network "
                                "and ACHTJE_TELEGRAM_API_URL") from exc

    async def _start(self) -> None:
        await self.app.initialize()  # getMe
        await self.scheduled_bot.initialize()
        await self._register_commands()
        await updates.start(self.app, self.webhook_url, self._secret, self.poll_timeout)
        logger.info("telegram bot @%s started (%s)", self.username,
                    "webhook" if self.webhook_url else "polling")

    async def stop(self) -> None:
        await updates.stop(self.app)
        await self.scheduled_bot.shutdown()

    async def _close_quietly(self) -> None:
        try:
            await self.stop()
        except Exception:
            logger.debug("telegram adapter did not close cleanly after a failed start",
                         exc_info=True)

    async def send(self, chat: str, replies: Sequence[Reply], *, parts: Parts | None = None
                   ) -> None:
        """Post replies in a chat (a group, or a person's private chat) in order. With
        `parts` (a scheduled send) the messages already out are skipped and each that goes
        is recorded; a flood wait comes back as `RetryLater` at once."""
        await self._send(chat, replies, parts=parts)

    async def _send(self, chat: str, replies: Sequence[Reply],
                    asked: rendering.Asked | None = None, parts: Parts | None = None) -> None:
        """`send`, knowing who a typed question in a group is for. A reply in a thread
        answers that message, `thread_of=FIRST` the first message sent here; `edit_of`
        replaces that message. Without `parts`, once a message went out a failure other
        than `Unreachable` is `DeliveryUncertain`: sending it all again would repeat what
        arrived. With `parts` the failure is raised as it is: `parts` says what went out."""
        try:
            chat_id = int(chat)
        except ValueError as exc:
            raise Unreachable(f"not a Telegram chat id: {chat!r}") from exc
        if parts is not None and parts.doubt:
            raise DeliveryUncertain("Telegram cannot tell whether the message arrived")
        posts = _Posts(parts)
        with uncertain_after_part(posts):
            for reply in replies:
                chat_id = await self._send_reply(chat_id, reply, asked, posts)

    async def _send_reply(self, chat_id: int, reply: Reply, asked: rendering.Asked | None,
                          posts: _Posts) -> int:
        """One reply, as one or more messages (or an edit), each added to `posts`. Returns
        the chat id it went to."""
        bot = self.app.bot if posts.parts is None else self.scheduled_bot
        first = posts.sent[0] if posts.sent else None
        thread = first if reply.thread_of == FIRST else rendering.message_id(reply.thread_of)
        try:
            callback_data = await chats.callback_data(self.engine, reply, chat_id > 0)
            messages = rendering.render(reply, chat=chat_id, bot_username=self.username,
                                        callback_data=callback_data, thread=thread,
                                        asked=asked)
        except TypeError:
            logger.exception("cannot render %s for telegram", type(reply).__name__)
            return chat_id
        edited = rendering.message_id(reply.edit_of)
        if edited is not None and len(messages) == 1:
            part = await posts.start()
            if part is None:
                return chat_id
            if await delivery.edit(bot, chat_id, edited, messages):
                posts.posted(str(chat_id), edited, part)
                return chat_id
            posts.again()
        for message in messages:
            part = await posts.start()
            if part is None:
                continue
            chat_id, sent = await self._post(chat_id, message, bot)
            posts.posted(str(chat_id), sent.message_id, part)
        return chat_id

    async def send_direct(self, user: str, replies: Sequence[Reply], *,
                          parts: Parts | None = None) -> None:
        """A person's private chat has their user id; a 403 there means blocked or never
        started, which is recorded on their memberships and not retried."""
        try:
            await self.send(user, replies, parts=parts)
        except Unreachable:
            await chats.reachable(self.engine, user, False)
            raise

    # Updates in

    async def _on_update(self, update: Update, _context: object) -> None:
        try:
            await self._handle(update)
        except Exception:
            logger.exception("could not handle telegram update %s", update.update_id)
            await self._apologise(update)

    async def _on_error(self, update: object, context: Any) -> None:
        logger.error("telegram error for %r", update, exc_info=context.error)

    async def _handle(self, update: Update) -> None:
        query = update.callback_query
        if query is not None:
            await delivery.answer(query)
        message = update.message
        if message is not None and message.migrate_to_chat_id:
            await chats.moved(self.engine, message.chat.id, message.migrate_to_chat_id)
            return
        if message is not None and message.migrate_from_chat_id:
            await chats.moved(self.engine, message.migrate_from_chat_id, message.chat.id)
            return
        if update.my_chat_member is not None:
            await chats.membership_changed(self.engine, update.my_chat_member)
            return
        if message is not None and anonymous_command(update, self.username):
            await self._send_logged(str(message.chat.id), [
                Text(text=self.engine.content.text("telegram_anonymous_admin", "nl"))])
            return
        incoming = to_incoming(update, self.username)
        origin = update.effective_chat
        if incoming is None or origin is None:
            return
        in_private = origin.type == "private"
        if incoming.action and incoming.action.startswith(store.CALLBACK_PREFIX):
            value = await chats.callback_value(self.engine, incoming.action)
            incoming = replace(incoming, action=value)
        if (in_private and not incoming.direct
                and not await chats.in_group(self.app.bot, incoming)):
            incoming = replace(incoming, chat=str(origin.id), direct=True)
        # Their private chat takes our messages: the turn marks them reachable if need be.
        outcome = await self.engine.handle(incoming, reachable=in_private)
        if query is not None and in_private and outcome.press_took_effect(incoming):
            await self._show_pressed(query, outcome.language)
        await self._deliver(incoming, origin.id, outcome.shown)

    async def _show_pressed(self, query: Any, lang: str) -> None:
        """In a private chat a pressed question shows what was chosen and loses its
        buttons, so it cannot be answered again by accident; not when the press did not
        take effect (a reply says `retry`). A group's buttons stay: they are for everyone
        (a poll, a session to join)."""
        await delivery.tidy(query, chosen(self.engine.content, lang,
                                          delivery.pressed_label(query)))

    async def _deliver(self, incoming: Incoming, origin: int, replies: list[Reply]) -> None:
        """Replies to where the person acted; private ones from a group go to their own
        chat, and when that is closed to us the group gets a link to open it."""
        if origin > 0:
            await self._send_logged(str(origin), replies)
            return
        public = [reply for reply in replies if not reply.private]
        private = [reply for reply in replies if reply.private]
        if public:
            await self._send_logged(incoming.chat, public, rendering.Asked.of(incoming))
        if not private:
            return
        try:
            await self.send_direct(incoming.user, private)
        except Unreachable:
            logger.info("telegram user %s cannot be written to; inviting them in %s",
                        incoming.user, incoming.chat)
            await self._send_logged(incoming.chat, [self._invitation(incoming)])
        except DeliveryError as exc:
            logger.warning("could not reach telegram user %s: %r", incoming.user, exc)

    def _invitation(self, incoming: Incoming) -> Invitation:
        lang = locale_language(incoming.locale)
        # The command's word, as typed: "/checkin@achtje_bot" or, addressed, "checkin".
        name = (incoming.text or "").partition(" ")[0].lstrip("/").split("@", 1)[0].lower()
        action = incoming.action or f"cmd:{name or 'start'}"
        content = self.engine.content
        return Invitation(
            text=content.text("telegram_private_fallback", lang,
                              name=incoming.display_name or ""),
            button=content.text("telegram_open_chat", lang), action=action)

    # Messages out

    async def _post(self, chat_id: int, message: rendering.Outgoing, bot: Bot | None = None
                    ) -> tuple[int, Message]:
        """Send one message; follows a group that became a supergroup, once. Returns the
        chat id it went to and the message as sent."""
        bot = bot or self.app.bot
        try:
            return chat_id, await self._put(chat_id, message, bot)
        except ChatMigrated as exc:
            await chats.moved(self.engine, chat_id, exc.new_chat_id)
            new_id = exc.new_chat_id
        except TelegramError as exc:
            raise delivery.delivery_error(exc) from exc
        try:
            return new_id, await self._put(new_id, message, bot)
        except TelegramError as exc:
            raise delivery.delivery_error(exc) from exc

    async def _put(self, chat_id: int, message: rendering.Outgoing, bot: Bot) -> Message:
        sent: Message
        if message.photo is not None:
            sent = await bot.send_photo(
                chat_id, message.photo, caption=message.text or None,
                reply_markup=message.markup, reply_parameters=message.reply_parameters)
        else:
            sent = await bot.send_message(
                chat_id, message.text, entities=message.entities or None,
                reply_markup=message.markup, reply_parameters=message.reply_parameters)
        return sent

    async def _send_logged(self, chat: str, replies: Sequence[Reply],
                           asked: rendering.Asked | None = None) -> None:
        try:
            await self._send(chat, replies, asked)
        except DeliveryError as exc:
            logger.warning("could not answer in telegram chat %s: %r", chat, exc)

    async def _apologise(self, update: Update) -> None:
        chat, user = update.effective_chat, update.effective_user
        if chat is None or chat.type != "private":
            return
        lang = locale_language(user.language_code if user else None)
        await self._send_logged(str(chat.id), [apology(self.engine.content, lang)])

    async def _register_commands(self) -> None:
        """The command menu, in Dutch (also for everyone else) and English: the commands
        declared `menu=True` in `bot.registry`, described by `telegram_command_<name>`."""
        content = self.engine.content
        for language in ("nl", "en", None):
            commands = [BotCommand(name, content.text(f"telegram_command_{name}",
                                                      language or "nl"))
                        for name in registry.menu()]
            try:
                await self.app.bot.set_my_commands(commands, language_code=language)
            except TelegramError as exc:
                logger.warning("could not register telegram commands (%s): %s", language, exc)


class _Posts(Posts):
    """`Posts`, also keeping the ids of the messages of this send (sent, edited, or out
    already), in order: a reply with `thread_of=FIRST` answers the first."""

    def __init__(self, parts: Parts | None) -> None:
        super().__init__(parts)
        self.sent: list[int] = []

    def skipped(self, chat: str, ref: str) -> None:
        super().skipped(chat, ref)
        self.sent.append(int(ref))

    def posted(self, chat: str, ref: object = None, part: int | None = None) -> None:
        super().posted(chat, ref, part)
        assert isinstance(ref, int)
        self.sent.append(ref)


# python-telegram-bot's own pool sizes: the app's bot 256 connections, every other one 1.
APP_CONNECTIONS = 256


def _request(tls: ssl.SSLContext, connections: int) -> HTTPXRequest:
    """An HTTP client as python-telegram-bot builds it by default, on the shared `tls`."""
    return HTTPXRequest(connection_pool_size=connections, httpx_kwargs={"verify": tls})

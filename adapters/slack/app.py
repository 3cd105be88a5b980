"""The Slack platform: a bolt `AsyncApp` on the shared web server or on Socket Mode.

Every listener acknowledges at once and hands the real work (the engine, then the Web API)
to a task of its own, so Slack always gets its answer within three seconds and `stop()`
can let the work in flight finish. bolt runs the listeners before it answers
(`process_before_response`), so that task exists by the time Slack has its response.
The engine decides what to say; this module only turns Slack's payloads into `Incoming`
events and the engine's replies into Block Kit.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from adapters.base import apology, chosen
from adapters.slack import translate
from adapters.slack.bolt_app import (
    SlackSettingsError,
    add_install_routes,
    bolt_app,
    check_token,
    team_of,
)
from adapters.slack.client import (
    PERSON_GONE,
    SlackUnreachable,
    api_client,
    call,
    close_session,
    open_session,
    replying,
    scheduled_client,
)
from adapters.slack.delivery import (
    Target,
    deliver,
    introduce,
    open_dm,
    profile_locale,
    show_choice,
)
from adapters.slack.home import home_view
from adapters.slack.limits import LIMITS, CallLimits, slack_limits
from adapters.slack.render import (
    ANSWER_VIEW,
    BUTTON_PREFIX,
    MENU,
    OPEN_ANSWER,
    Labels,
    answer_modal,
    labels_for,
    modal_answer,
)
from adapters.slack.translate import PLATFORM, is_dm, ref, split_ref
from adapters.slack.uninstall import concerns, workspace_event
from adapters.web import WebServer
from bot.engine import Engine
from bot.messages import (
    DeliveryError,
    Incoming,
    Outcome,
    Parts,
    Reply,
    RetryLater,
    Unreachable,
    locale_language,
)
from bot.privacy.redact import protect
from bot.profile import language_of, member_profile, set_reachable
from bot.settings import Settings

if TYPE_CHECKING:  # loaded in Socket Mode only: HTTP mode starts without it
    from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
DEFAULT_LANGUAGE = "nl"
STOP_GRACE = 10.0
# Handled events at once; more wait their turn (each holds a database connection).
MAX_IN_FLIGHT = 10


class SlackAdapter:
    platform = PLATFORM
    # Scheduled sends take `parts` and can find a post whose answer was lost (metadata).
    takes_parts = True
    looks_up = True
    limits = LIMITS
    invites_in_channel = False  # the private messages are enough: a bot can open a DM
    # The sender's shared rate limiter (`share_limits`): scheduled sends take Slack's
    # per-method buckets of their workspace from it, with every other process.
    call_limits: CallLimits | None = None

    def __init__(self, settings: Settings, engine: Engine, web_server: WebServer) -> None:
        protect(settings.slack_bot_token, settings.slack_signing_secret,
                settings.slack_app_token, settings.slack_client_secret, settings.secret_key)
        self.engine = engine
        self.content = engine.content
        self.limits = slack_limits(settings.slack_history_per_minute)
        # Acked work waits here instead of piling up on the database connection pool.
        self._in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
        self.api_url = settings.slack_api_url
        self.app_token = settings.slack_app_token
        self.oauth = bool(settings.slack_client_id and settings.slack_client_secret)
        self.client = api_client(None if self.oauth else settings.slack_bot_token, self.api_url)
        self.socket: AsyncSocketModeHandler | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        if not self.app_token and not settings.slack_signing_secret:
            raise SlackSettingsError("set SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for Socket "
                                     "Mode) to receive Slack events")
        self.app, self.installations = bolt_app(settings, engine, self.client,
                                                self._on_uninstalled)
        self._listen()
        if not self.app_token:
            web_server.add_route("POST", EVENTS_PATH, self._on_http)
        if self.oauth:
            add_install_routes(self.app, web_server)

    def _listen(self) -> None:
        app = self.app
        app.command(re.compile(r"^/"))(self._on_command)
        app.action(re.compile(rf"^({re.escape(BUTTON_PREFIX)}\d+|{MENU})$"))(self._on_button)
        app.action(OPEN_ANSWER)(self._on_open_answer)
        app.view(ANSWER_VIEW)(self._on_answer)
        app.event("message")(self._on_message)
        app.event("app_mention")(self._on_message)  # "@achtje help" in a channel
        app.event("app_home_opened")(self._on_home)

    # -- running -------------------------------------------------------------------------

    async def start(self) -> None:
        """Check the bot token (`auth.test`) and, in Socket Mode, connect; in HTTP mode the
        shared web server does the listening.

        Raises SlackSettingsError, naming what to check, when Slack refuses a token or
        cannot be reached (with several workspaces each token is checked when used).
        """
        # Every Web API call of this process shares it (derived clients and bolt's too).
        self.client.session = open_session(self.client.timeout)
        try:
            if self.installations is not None:  # their tokens stay out of every log line
                await self.installations.protect_saved_tokens()
            else:
                await check_token(self.client.auth_test(), "SLACK_BOT_TOKEN", self.api_url)
            if self.app_token:
                # The Socket Mode client retries a refused app token for ever, quietly: ask
                # once ourselves (the address it hands out is simply not used).
                await check_token(self.client.apps_connections_open(app_token=self.app_token),
                                  "SLACK_APP_TOKEN", self.api_url)
                from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

                self.socket = AsyncSocketModeHandler(self.app, self.app_token,
                                                     web_client=self.client)
                await self.socket.connect_async()  # type: ignore[no-untyped-call]
                logger.info("connected to Slack in Socket Mode")
        except BaseException:
            await close_session(self.client)
            raise

    async def stop(self) -> None:
        if self.socket is not None:
            await self.socket.close_async()  # type: ignore[no-untyped-call]
            self.socket = None
        if self._tasks:
            _, late = await asyncio.wait(set(self._tasks), timeout=STOP_GRACE)
            for task in late:
                task.cancel()
        await close_session(self.client)

    async def settled(self) -> None:
        """Wait until the work of every event received so far is done."""
        while self._tasks:
            await asyncio.gather(*set(self._tasks), return_exceptions=True)

    def _spawn(self, work: Awaitable[object], what: str) -> None:
        async def guarded() -> None:
            try:
                async with self._in_flight:
                    await work
            except Exception:
                logger.exception("Slack %s could not be handled", what)

        task = asyncio.get_running_loop().create_task(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- HTTP ----------------------------------------------------------------------------

    async def _on_http(self, request: web.Request) -> web.StreamResponse:
        """Events, interactivity and the slash command; bolt checks the signature (401)."""
        response = await self.app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    # -- listeners: acknowledge, then work in a task -------------------------------------

    async def _on_command(self, ack: AsyncAck, command: dict[str, Any],
                          client: AsyncWebClient, context: AsyncBoltContext) -> None:
        await ack()
        self._spawn(self._command(command, client, team_of(context)),
                    f"slash command from {command.get('user_id')}")

    async def _command(self, command: dict[str, Any], client: AsyncWebClient,
                       team: str) -> None:
        user, channel = command["user_id"], command["channel_id"]
        direct = is_dm(channel)
        if direct:  # perhaps a DM between two people: answer in the person's DM with us
            channel = await open_dm(client, user)
        incoming = translate.from_command(command, team, ref(team, channel), direct)
        await self._answer(client, incoming, Target(channel, user, direct))

    async def _on_button(self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient,
                         context: AsyncBoltContext, respond: AsyncRespond) -> None:
        await ack()
        value = translate.pressed_value(body)
        if value is not None:
            self._spawn(self._button(body, value, client, team_of(context), respond),
                        f"button {value!r} from {_user_id(body)}")

    async def _button(self, body: dict[str, Any], value: str, client: AsyncWebClient,
                      team: str, respond: AsyncRespond) -> None:
        user = body["user"]["id"]
        channel, direct = translate.where_pressed(body)
        channel = channel or await open_dm(client, user)
        incoming = translate.from_action(body, value, team, ref(team, channel), direct)
        outcome = await self._answer(client, incoming, Target(channel, user, direct))
        if translate.pressed_privately(body) and outcome.press_took_effect(incoming):
            await self._show_pressed(body, client, respond, outcome.language)

    async def _show_pressed(self, body: dict[str, Any], client: AsyncWebClient,
                            respond: AsyncRespond, lang: str) -> None:
        """After a press in a DM or on an ephemeral message: the message says what was
        chosen and loses its buttons, so an old question is not answered by accident
        (not when the press did not take effect: a reply says `retry`)."""
        shown = chosen(self.content, lang, translate.pressed_label(body))
        if shown is not None:
            await show_choice(replying(client), respond, body, shown)

    async def _on_open_answer(self, ack: AsyncAck, body: dict[str, Any],
                              client: AsyncWebClient, context: AsyncBoltContext) -> None:
        await ack()
        self._spawn(self._open_answer(body, client, team_of(context)),
                    f"answer window for {_user_id(body)}")

    async def _open_answer(self, body: dict[str, Any], client: AsyncWebClient,
                           team: str) -> None:
        channel, _ = translate.where_pressed(body)
        lang = await self._language(ref(team, body["user"]["id"]))
        view = answer_modal(labels_for(self.content, lang), channel or "")
        await call(client.views_open(trigger_id=body["trigger_id"], view=view))

    async def _on_answer(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any],
                         client: AsyncWebClient, context: AsyncBoltContext) -> None:
        await ack()  # closes the window
        text = modal_answer(view)
        if text is not None:
            self._spawn(self._answer_typed(body, view, text, client, team_of(context)),
                        f"typed answer from {_user_id(body)}")

    async def _answer_typed(self, body: dict[str, Any], view: dict[str, Any], text: str,
                            client: AsyncWebClient, team: str) -> None:
        user = body["user"]["id"]
        channel = str(view.get("private_metadata") or "") or await open_dm(client, user)
        direct = is_dm(channel)
        incoming = translate.from_submission(body, text, team, ref(team, channel), direct)
        await self._answer(client, incoming, Target(channel, user, direct))

    async def _on_message(self, body: dict[str, Any], client: AsyncWebClient,
                          context: AsyncBoltContext) -> None:
        incoming = translate.from_message(body, team_of(context))
        if incoming is not None:
            event = body["event"]
            target = Target(event["channel"], event["user"], incoming.direct)
            self._spawn(self._answer(client, incoming, target),
                        f"direct message from {incoming.user}")

    async def _on_home(self, event: dict[str, Any], client: AsyncWebClient,
                       context: AsyncBoltContext) -> None:
        if event.get("tab") == "home" and event.get("user"):
            self._spawn(self._home(event["user"], client, team_of(context)),
                        f"home tab of {event['user']}")

    async def _home(self, user: str, client: AsyncWebClient, team: str) -> None:
        profile = await member_profile(self.engine.sessions, PLATFORM, ref(team, user),
                                       self.engine.clock())
        lang = (profile.language if profile
                else locale_language(await profile_locale(client, user)))
        view = home_view(self.content, profile, lang)
        await call(client.views_publish(user_id=user, view=view))

    async def _on_uninstalled(self, event: dict[str, Any], context: AsyncBoltContext
                              ) -> None:
        if concerns(event):  # adapters/slack/uninstall.py
            team = team_of(context)
            self._spawn(workspace_event(self.engine, self.installations, event, team,
                                        context.enterprise_id, context.team_id),
                        f"{event['type']} from workspace {team}")

    # -- answering -----------------------------------------------------------------------

    async def _answer(self, client: AsyncWebClient, incoming: Incoming, target: Target
                      ) -> Outcome:
        """Let the engine answer, then show its replies; failures are logged, not shown."""
        client = replying(client)
        outcome = await self.engine.handle(  # Slack says who a newcomer is
            incoming, introduce=partial(introduce, client, user=target.user))
        visible = outcome.shown
        if not visible:
            return outcome
        lang = outcome.language
        try:
            await deliver(client, target, visible, labels_for(self.content, lang))
        except Unreachable as exc:
            logger.warning("cannot reach %s in %s: %s", incoming.user, incoming.chat, exc)
            if isinstance(exc, SlackUnreachable) and exc.error in PERSON_GONE:
                await set_reachable(self.engine.sessions, PLATFORM, incoming.user, False,
                                    self.engine.clock())
        except RetryLater as exc:
            logger.warning("Slack is busy; replies to %s in %s are lost (%s)",
                           incoming.user, incoming.chat, exc)
        except DeliveryError as exc:
            logger.error("Slack refused the replies to %s in %s: %s", incoming.user,
                         incoming.chat, exc)
            sorry = apology(self.content, lang, private=not target.direct)
            try:
                await deliver(client, target, [sorry], labels_for(self.content, lang))
            except DeliveryError:
                logger.exception("not even the apology reached %s", incoming.user)
        return outcome

    async def _language(self, user: str) -> str:
        """The language of someone known, for a window or post not answering a turn."""
        return (await language_of(self.engine.sessions, PLATFORM, user)) or DEFAULT_LANGUAGE

    # -- the Adapter protocol: messages the scheduler sends ------------------------------

    async def send(self, chat: str, replies: Sequence[Reply], *, parts: Parts | None = None
                   ) -> None:
        """Post to a channel (or DM) by its `TEAM:CHANNEL` reference. A 429 is not waited
        out here: the sender tries later and goes on with other chats."""
        team, channel = split_ref(chat)
        client = scheduled_client(await self._client_for(team), self.call_limits,
                                  team or "")
        await deliver(client, Target(channel, None, is_dm(channel)), replies,
                      self._labels(DEFAULT_LANGUAGE), parts)

    async def send_direct(self, user: str, replies: Sequence[Reply], *,
                          parts: Parts | None = None) -> None:
        """Write to one person in their DM with the bot, by their `TEAM:USER` reference."""
        team, slack_user = split_ref(user)
        client = scheduled_client(await self._client_for(team), self.call_limits,
                                  team or "")
        lang = await self._language(user)
        try:
            await deliver(client, Target(None, slack_user, True), replies, self._labels(lang),
                          parts)
        except Unreachable:
            await set_reachable(self.engine.sessions, PLATFORM, user, False, self.engine.clock())
            raise

    def share_limits(self, limits: CallLimits) -> None:
        """Use the sender's rate limiter for the Web API calls of scheduled sends."""
        self.call_limits = limits

    def _labels(self, lang: str) -> Labels:
        return labels_for(self.content, lang)

    async def _client_for(self, team: str | None) -> AsyncWebClient:
        """The client with the token of the workspace (or org) behind a reference; raises
        `Unreachable` or `RetryLater` when there is no working token (see `working_bot`)."""
        if self.installations is None:
            return self.client
        if not team or team == translate.NO_TEAM:
            raise Unreachable("a Slack reference without a workspace")
        org = team.startswith("E")
        bot = await self.installations.working_bot(
            enterprise_id=team if org else None, team_id=None if org else team,
            is_enterprise_install=org)
        return api_client(bot.bot_token, self.api_url, session=self.client.session)


def _user_id(body: dict[str, Any]) -> str:
    return str((body.get("user") or {}).get("id"))


def build(settings: Settings, engine: Engine, web_server: WebServer) -> SlackAdapter:
    return SlackAdapter(settings, engine, web_server)

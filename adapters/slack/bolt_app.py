"""The bolt `AsyncApp` for the settings given: one workspace by its bot token, or installs
in several workspaces (OAuth, the tokens kept encrypted in the database), with the
install pages on the shared web server."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import translate
from adapters.slack.install import DatabaseInstallationStore, DatabaseStateStore, token_cipher
from adapters.web import WebServer
from bot.engine import Engine
from bot.settings import Settings, SettingsError, secret_key

# Named here: unnamed, bolt reads the caller's file name off `inspect.stack()`, a fifth
# of a second at start-up.
APP_NAME = "achtje"
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
BOT_SCOPES = ("commands", "chat:write", "im:history", "channels:history", "groups:history",
              "im:write", "users:read", "files:write")


class _KnownTokenNotice(logging.Filter):
    """bolt reads SLACK_BOT_TOKEN from the environment itself and warns that it goes unused
    next to our client; the client carries that very token, so the warning only confuses."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


bolt_logger = logging.getLogger("adapters.slack.app.bolt")  # under the adapter's logger
bolt_logger.addFilter(_KnownTokenNotice())


class SlackSettingsError(SettingsError):
    """The Slack settings do not describe a way to run (a token or secret is missing)."""


def bolt_app(settings: Settings, engine: Engine, client: AsyncWebClient,
             on_uninstalled: Callable[..., Awaitable[None]]
             ) -> tuple[AsyncApp, DatabaseInstallationStore | None]:
    """The app, and the store of installations when there are several workspaces.
    `on_uninstalled` (event, context) hears that a workspace removed achtje or revoked its
    token (instead of bolt's own listeners, which only forget the tokens). Raises
    SlackSettingsError naming what to set."""
    installations = None
    if settings.slack_client_id and settings.slack_client_secret:
        app, installations = _oauth_app(settings, engine, client)
    elif not settings.slack_bot_token:
        raise SlackSettingsError("set SLACK_BOT_TOKEN, or SLACK_CLIENT_ID and "
                                 "SLACK_CLIENT_SECRET for installs in several workspaces")
    else:
        app = AsyncApp(signing_secret=settings.slack_signing_secret or "", client=client,
                       process_before_response=True, logger=bolt_logger, name=APP_NAME)
    app.event("app_uninstalled")(on_uninstalled)
    app.event("tokens_revoked")(on_uninstalled)
    return app, installations


def _oauth_app(settings: Settings, engine: Engine, client: AsyncWebClient
               ) -> tuple[AsyncApp, DatabaseInstallationStore]:
    try:
        key = secret_key(settings.secret_key, "it encrypts the workspaces' tokens")
    except SettingsError as exc:
        raise SlackSettingsError(str(exc)) from exc
    cipher = token_cipher(key)
    sessions, clock = engine.sessions, engine.clock
    rotator = AsyncTokenRotator(client_id=settings.slack_client_id or "",
                                client_secret=settings.slack_client_secret or "",
                                client=client)
    installations = DatabaseInstallationStore(sessions, cipher, clock, rotator)
    oauth_settings = AsyncOAuthSettings(
        client_id=settings.slack_client_id, client_secret=settings.slack_client_secret,
        scopes=list(BOT_SCOPES), install_path=INSTALL_PATH, redirect_uri_path=REDIRECT_PATH,
        installation_store=installations, installation_store_bot_only=True,
        state_store=DatabaseStateStore(sessions, clock),
    )
    app = AsyncApp(signing_secret=settings.slack_signing_secret or "", client=client,
                   oauth_settings=oauth_settings, installation_store_bot_only=True,
                   process_before_response=True, logger=bolt_logger, name=APP_NAME)
    return app, installations


def add_install_routes(app: AsyncApp, web_server: WebServer) -> None:
    """The install page and the OAuth redirect, on the shared web server."""

    async def on_install(request: web.Request) -> web.StreamResponse:
        flow = app.oauth_flow
        assert flow is not None
        return await to_aiohttp_response(await flow.handle_installation(
            await to_bolt_request(request)))

    async def on_redirect(request: web.Request) -> web.StreamResponse:
        flow = app.oauth_flow
        assert flow is not None
        return await to_aiohttp_response(await flow.handle_callback(
            await to_bolt_request(request)))

    web_server.add_route("GET", INSTALL_PATH, on_install)
    web_server.add_route("GET", REDIRECT_PATH, on_redirect)


def team_of(context: AsyncBoltContext) -> str:
    """The installation an event came through: the org for org-wide installs."""
    if context.is_enterprise_install and context.enterprise_id:
        return str(context.enterprise_id)
    return str(context.team_id or context.enterprise_id or translate.NO_TEAM)


async def check_token(request: Awaitable[object], setting: str, api_url: str | None) -> None:
    """Await a start's check of a token; SlackSettingsError, naming what to check, when
    Slack refuses it or cannot be reached."""
    try:
        await request
    except SlackApiError as exc:
        error = exc.response.get("error") if exc.response is not None else None
        raise SlackSettingsError(f"the slack app could not start: Slack refused {setting} "
                                 f"({error or 'no reason given'})") from None
    except (OSError, TimeoutError, aiohttp.ClientError) as exc:
        where = api_url or "slack.com"
        raise SlackSettingsError(f"the slack app could not start: no answer from Slack at "
                                 f"{where} ({type(exc).__name__}); check the network and "
                                 "ACHTJE_SLACK_API_URL") from exc

"""Multi-workspace installs: bolt's installation and OAuth state stores on our own database.

Bot tokens are encrypted with Fernet under a key derived from `ACHTJE_SECRET_KEY`, so a
copy of the database alone does not give anyone a workspace's token. Only bot tokens are
kept (achtje asks for no user scopes).

With token rotation on (an app setting, see manifest.yml) a bot token expires after twelve
hours and comes with a refresh token, kept encrypted too. The store itself hands out only
fresh tokens: `async_find_bot` refreshes a token that expires within two hours, through
slack_sdk's `AsyncTokenRotator` on the adapter's own client, and saves the new pair. So
bolt's authorization of an event and the scheduler's sends (`SlackAdapter._client_for`) both
get a working token. The refresh token never leaves the store, so bolt's built-in rotation
never runs: it would refresh only for events, with a client of its own that ignores
ACHTJE_SLACK_API_URL, and without a lock, while Slack revokes a refresh token once it is
used, so two processes refreshing the same token would lock one of them out. Here a rotation
locks the workspace's row (`FOR UPDATE` on PostgreSQL; on SQLite one process runs), reads it
again, and refreshes only if no other process did meanwhile. A token that has expired and
cannot be refreshed makes a scheduled send `RetryLater` when Slack was busy or out of reach,
and `Unreachable` when Slack refused (only a reinstall helps then).

Every token is registered with the log redactor as soon as it is read, saved or refreshed,
and those already saved when the adapter starts (`protect_saved_tokens`). Slack's replies
to the token exchanges are logged by slack_sdk at DEBUG before any caller sees them, so
anything shaped like a Slack token is masked in log records as well.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import aiohttp
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from slack_sdk.errors import SlackTokenRotationError
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator
from sqlalchemy import ColumnElement, and_, delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.slack.client import retry_after
from bot.messages import DeliveryError, RetryLater, Unreachable
from bot.privacy.redact import protect, protect_shape
from bot.store.slack import SlackInstallation, SlackOAuthState

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
STATE_LIFETIME = timedelta(minutes=10)
# Refresh a token this long before it expires (bolt's default margin too).
ROTATE_BEFORE_MINUTES = 120
# How long a send waits when Slack could not refresh an expired token just now.
REFRESH_RETRY_AFTER = 60.0
# Slack's own errors for a moment's trouble on its side.
SLACK_TROUBLE = frozenset({"internal_error", "fatal_error", "service_unavailable",
                           "request_timeout"})
# Bot, user and refresh tokens (xoxb-, xoxp-, xoxe-, rotating xoxe.xoxb-) and app tokens.
SLACK_TOKEN = re.compile(r"(?:xox[a-z]\.)?(?:xox[a-z]|xapp)-[\w.+/=-]+")


def token_cipher(secret_key: str) -> Fernet:
    """A Fernet key derived from the operator's secret (checked by `bot.settings.secret_key`);
    the same secret gives the same key."""
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                   info=b"achtje slack bot tokens").derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


class DatabaseInstallationStore(AsyncInstallationStore):
    """One row per workspace (or Enterprise Grid org) in `slack_installation`.

    Without a `rotator` (no client id and secret to refresh with) tokens are handed out
    as stored.
    """

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], cipher: Fernet, clock: Clock,
        rotator: AsyncTokenRotator | None = None,
    ) -> None:
        self.sessions = sessions
        self.cipher = cipher
        self.clock = clock
        self.rotator = rotator
        self._rotating = asyncio.Lock()  # one rotation at a time in this process
        protect_shape(SLACK_TOKEN)

    @property
    def logger(self) -> logging.Logger:
        return logger

    async def async_save(self, installation: Installation) -> None:
        await self.async_save_bot(installation.to_bot())

    async def async_save_bot(self, bot: Bot) -> None:
        protect(bot.bot_token, bot.bot_refresh_token)
        key = _key(bot.enterprise_id, bot.team_id, bot.is_enterprise_install)
        async with self.sessions() as session, session.begin():
            row = await session.scalar(select(SlackInstallation).where(_matches(*key)))
            if row is None:
                row = SlackInstallation(enterprise_id=key[0], team_id=key[1],
                                        installed_at=self.clock())
                session.add(row)
            row.is_enterprise_install = bool(bot.is_enterprise_install)
            row.app_id = bot.app_id or ""
            row.team_name = (bot.team_name or "")[:200]
            row.bot_id = bot.bot_id
            row.bot_user_id = bot.bot_user_id
            row.bot_scopes = ",".join(bot.bot_scopes or [])
            self._write_tokens(row, bot)
            row.installed_at = self.clock()
        logger.info("Slack installation saved for %s", _name(key))

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        """`working_bot` as bolt asks for it: None when there is no working token."""
        try:
            return await self.working_bot(enterprise_id=enterprise_id, team_id=team_id,
                                          is_enterprise_install=is_enterprise_install)
        except DeliveryError:
            return None

    async def working_bot(
        self, *, enterprise_id: str | None, team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot:
        """The workspace's bot, its token refreshed first when it expires within two hours.

        Raises `Unreachable` when achtje is not installed there or only a reinstall gives
        it a token again, `RetryLater` when Slack could not refresh an expired token just
        now. The refresh token stays in the store (see the module's docstring).
        """
        key = _key(enterprise_id, team_id, is_enterprise_install)
        async with self.sessions() as session:
            row = await session.scalar(select(SlackInstallation).where(_matches(*key)))
        bot = self._read(row) if row is not None else None
        if bot is not None and self.rotator is not None and _expiring(bot):
            bot = await self._rotate(key)
        if bot is None:
            raise Unreachable(f"achtje has no working token in Slack workspace {_name(key)}")
        bot.bot_refresh_token = None
        return bot

    async def protect_saved_tokens(self) -> int:
        """Register every saved token with the log redactor; returns how many workspaces."""
        async with self.sessions() as session:
            rows = list(await session.scalars(select(SlackInstallation)))
        return sum(self._read(row) is not None for row in rows)

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        if user_id is not None:
            return None  # no user tokens are kept
        bot = await self.async_find_bot(enterprise_id=enterprise_id, team_id=team_id,
                                        is_enterprise_install=is_enterprise_install)
        if bot is None:
            return None
        return Installation(
            app_id=bot.app_id, enterprise_id=bot.enterprise_id, team_id=bot.team_id,
            team_name=bot.team_name, bot_token=bot.bot_token, bot_id=bot.bot_id,
            bot_user_id=bot.bot_user_id, bot_scopes=bot.bot_scopes, user_id="",
            bot_token_expires_at=bot.bot_token_expires_at,
            is_enterprise_install=bot.is_enterprise_install, installed_at=bot.installed_at,
        )

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self._delete(enterprise_id, team_id)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        if user_id is None:
            await self._delete(enterprise_id, team_id)

    async def _rotate(self, key: tuple[str, str]) -> Bot | None:
        """Refresh the workspace's expiring token, unless another process just did.

        When Slack will not refresh it, the old token is used for as long as it lasts;
        after that, see `refresh_failure`.
        """
        assert self.rotator is not None
        async with self._rotating, self.sessions() as session, session.begin():
            row = await session.scalar(
                select(SlackInstallation).where(_matches(*key)).with_for_update())
            bot = self._read(row) if row is not None else None
            if row is None or bot is None or not _expiring(bot):
                return bot
            try:
                fresh = await self.rotator.perform_bot_token_rotation(
                    bot=bot, minutes_before_expiration=ROTATE_BEFORE_MINUTES)
            except (SlackTokenRotationError, aiohttp.ClientError, TimeoutError) as exc:
                reason = (exc.api_error.response.get("error")
                          if isinstance(exc, SlackTokenRotationError) else repr(exc))
                if (bot.bot_token_expires_at or 0) > time.time():
                    logger.error("the Slack token of %s could not be refreshed (%s); the old "
                                 "one works a little longer, trying again next time",
                                 _name(key), reason)
                    return bot
                failure = refresh_failure(exc)
                logger.error("the Slack token of %s could not be refreshed (%s); %s",
                             _name(key), reason, "trying again shortly"
                             if isinstance(failure, RetryLater) else "reinstall achtje there")
                raise failure from exc
            if fresh is None:  # Slack answered with another kind of token
                return bot
            protect(fresh.bot_token, fresh.bot_refresh_token)
            self._write_tokens(row, fresh)
        logger.info("Slack token of %s refreshed", _name(key))
        return fresh

    def _read(self, row: SlackInstallation) -> Bot | None:
        """The stored bot with its tokens decrypted (and masked in logs from now on)."""
        try:
            token = self._decrypt(row.bot_token_encrypted)
            refresh = (self._decrypt(row.bot_refresh_token_encrypted)
                       if row.bot_refresh_token_encrypted else None)
        except InvalidToken:
            logger.error("the Slack token of %s cannot be decrypted: was ACHTJE_SECRET_KEY "
                         "changed? Reinstall achtje in that workspace", row.team_id)
            return None
        protect(token, refresh)
        return Bot(
            app_id=row.app_id or None, enterprise_id=row.enterprise_id or None,
            team_id=row.team_id or None, team_name=row.team_name or None, bot_token=token,
            bot_id=row.bot_id, bot_user_id=row.bot_user_id, bot_scopes=row.bot_scopes,
            bot_refresh_token=refresh, bot_token_expires_at=row.bot_token_expires_at,
            is_enterprise_install=row.is_enterprise_install, installed_at=row.installed_at,
        )

    def _write_tokens(self, row: SlackInstallation, bot: Bot) -> None:
        row.bot_token_encrypted = self._encrypt(bot.bot_token)
        refresh, expires = bot.bot_refresh_token, bot.bot_token_expires_at
        row.bot_refresh_token_encrypted = self._encrypt(refresh) if refresh else None
        row.bot_token_expires_at = datetime.fromtimestamp(expires, UTC) if expires else None

    def _encrypt(self, token: str) -> str:
        return self.cipher.encrypt(token.encode()).decode()

    def _decrypt(self, encrypted: str) -> str:
        return self.cipher.decrypt(encrypted.encode()).decode()

    async def _delete(self, enterprise_id: str | None, team_id: str | None) -> None:
        async with self.sessions() as session, session.begin():
            statement = delete(SlackInstallation).where(
                SlackInstallation.enterprise_id == (enterprise_id or "")
            )
            if team_id:  # an org-wide install is stored without a team
                statement = statement.where(SlackInstallation.team_id.in_([team_id, ""]))
            await session.execute(statement)
        logger.info("Slack tokens removed for %s", team_id or enterprise_id)


class DatabaseStateStore(AsyncOAuthStateStore):
    """One-time `state` values for install links, valid for ten minutes."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    @property
    def logger(self) -> logging.Logger:
        return logger

    async def async_issue(self, *args: object, **kwargs: object) -> str:
        state = secrets.token_urlsafe(32)
        now = self.clock()
        async with self.sessions() as session, session.begin():
            await session.execute(delete(SlackOAuthState).where(SlackOAuthState.expires_at < now))
            session.add(SlackOAuthState(state=state, expires_at=now + STATE_LIFETIME))
        return state

    async def async_consume(self, state: str) -> bool:
        async with self.sessions() as session, session.begin():
            result = await session.execute(
                delete(SlackOAuthState)
                .where(SlackOAuthState.state == state[:64],
                       SlackOAuthState.expires_at > self.clock())
                .returning(SlackOAuthState.state)
            )
            return result.first() is not None


def _key(
    enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None
) -> tuple[str, str]:
    """How a workspace is stored: an org-wide install has no team of its own."""
    if is_enterprise_install:
        return enterprise_id or "", ""
    return enterprise_id or "", team_id or ""


def _name(key: tuple[str, str]) -> str:
    return "/".join(part for part in key if part)


def refresh_failure(exc: Exception) -> DeliveryError:
    """What a failed refresh of an expired token means for a send: `RetryLater` when Slack
    was busy or out of reach (a 429, a 5xx, a network error or timeout), `Unreachable`
    when Slack said no (`invalid_refresh_token`, `token_revoked`, `invalid_auth`, ...):
    only a reinstall helps then."""
    if not isinstance(exc, SlackTokenRotationError):
        return RetryLater(REFRESH_RETRY_AFTER, f"no answer from Slack to a token refresh: {exc!r}")
    response = exc.api_error.response
    error = str(response.get("error") or "")
    if response.status_code == 429 or error == "ratelimited":
        return RetryLater(retry_after(response.headers), "Slack asked to slow down refreshing")
    if response.status_code >= 500 or error in SLACK_TROUBLE:
        return RetryLater(REFRESH_RETRY_AFTER,
                          f"Slack failed a token refresh ({error or response.status_code})")
    return Unreachable(f"Slack refused to refresh the token ({error})")


def _expiring(bot: Bot) -> bool:
    """A rotating token that expires within the margin; compared with the system clock, as
    slack_sdk computes the expiry from it."""
    expires = bot.bot_token_expires_at
    return (bot.bot_refresh_token is not None and expires is not None
            and expires <= time.time() + ROTATE_BEFORE_MINUTES * 60)


def _matches(enterprise_id: str, team_id: str) -> ColumnElement[bool]:
    return and_(SlackInstallation.enterprise_id == enterprise_id,
                SlackInstallation.team_id == team_id)

"""Multi-workspace installs: bolt's installation and OAuth state stores on our own database.

Bot tokens are encrypted with Fernet under a key derived from `ACHTJE_SECRET_KEY`, so a
copy of the database alone does not give anyone a workspace's token. Only bot tokens are
kept (achtje asks for no user scopes). Token rotation is not enabled for the app, so a
token stays valid until the workspace uninstalls achtje or revokes it.
"""

from __future__ import annotations

import base64
import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from sqlalchemy import ColumnElement, and_, delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.store.slack import SlackInstallation, SlackOAuthState

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
STATE_LIFETIME = timedelta(minutes=10)
MIN_SECRET_LENGTH = 16


def token_cipher(secret_key: str) -> Fernet:
    """A Fernet key derived from the operator's secret; the same secret gives the same key."""
    if len(secret_key) < MIN_SECRET_LENGTH:
        raise ValueError(f"ACHTJE_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters")
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                   info=b"achtje slack bot tokens").derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


class DatabaseInstallationStore(AsyncInstallationStore):
    """One row per workspace (or Enterprise Grid org) in `slack_installation`."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], cipher: Fernet, clock: Clock
    ) -> None:
        self.sessions = sessions
        self.cipher = cipher
        self.clock = clock

    @property
    def logger(self) -> logging.Logger:
        return logger

    async def async_save(self, installation: Installation) -> None:
        await self.async_save_bot(installation.to_bot())

    async def async_save_bot(self, bot: Bot) -> None:
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
            row.bot_token_encrypted = self.cipher.encrypt(bot.bot_token.encode()).decode()
            row.installed_at = self.clock()
        logger.info("Slack installation saved for %s", "/".join(k for k in key if k))

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        key = _key(enterprise_id, team_id, is_enterprise_install)
        async with self.sessions() as session:
            row = await session.scalar(select(SlackInstallation).where(_matches(*key)))
        if row is None:
            return None
        try:
            token = self.cipher.decrypt(row.bot_token_encrypted.encode()).decode()
        except InvalidToken:
            logger.error("the Slack token of %s cannot be decrypted: was ACHTJE_SECRET_KEY "
                         "changed? Reinstall achtje in that workspace", row.team_id)
            return None
        return Bot(
            app_id=row.app_id or None, enterprise_id=row.enterprise_id or None,
            team_id=row.team_id or None, team_name=row.team_name or None, bot_token=token,
            bot_id=row.bot_id, bot_user_id=row.bot_user_id, bot_scopes=row.bot_scopes,
            is_enterprise_install=row.is_enterprise_install, installed_at=row.installed_at,
        )

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
            is_enterprise_install=bot.is_enterprise_install, installed_at=bot.installed_at,
        )

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self._delete(enterprise_id, team_id)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        if user_id is None:
            await self._delete(enterprise_id, team_id)

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


def _matches(enterprise_id: str, team_id: str) -> ColumnElement[bool]:
    return and_(SlackInstallation.enterprise_id == enterprise_id,
                SlackInstallation.team_id == team_id)

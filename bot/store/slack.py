"""Slack's own tables: workspace installations (OAuth mode) and OAuth state values.

Only bot tokens are kept, encrypted by the Slack adapter before they reach this table; the
columns hold the ciphertext. With token rotation on (an app setting) Slack's bot tokens
expire after twelve hours and come with a refresh token, kept encrypted in the same way.
Single-token deployments never write here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.models import Base


class SlackInstallation(Base):
    """The bot of one workspace (or one Enterprise Grid org) that installed achtje."""

    __tablename__ = "slack_installation"
    __table_args__ = (UniqueConstraint("enterprise_id", "team_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[str] = mapped_column(String(32), default="")
    team_id: Mapped[str] = mapped_column(String(32), default="")
    is_enterprise_install: Mapped[bool] = mapped_column(default=False)
    app_id: Mapped[str] = mapped_column(String(32), default="")
    team_name: Mapped[str] = mapped_column(String(200), default="")
    bot_id: Mapped[str] = mapped_column(String(32))
    bot_user_id: Mapped[str] = mapped_column(String(32))
    bot_scopes: Mapped[str] = mapped_column(Text, default="")
    bot_token_encrypted: Mapped[str] = mapped_column(Text)
    # Only with token rotation on: the refresh token, and when the bot token expires.
    bot_refresh_token_encrypted: Mapped[str | None] = mapped_column(Text)
    bot_token_expires_at: Mapped[datetime | None]
    installer_user_id: Mapped[str] = mapped_column(String(32), default="")
    installed_at: Mapped[datetime]


class SlackOAuthState(Base):
    """A one-time `state` value of an install link, so a callback cannot be forged or replayed."""

    __tablename__ = "slack_oauth_state"

    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime]

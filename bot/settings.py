"""Configuration from the environment and an optional `.env` file.

Each platform's settings are fields here (one environment to read); which of them switch a
platform on is the platform's own description (adapters/platforms.py).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class SettingsError(ValueError):
    """A platform is switched on but its settings are incomplete; the message says what to set."""


MIN_SECRET_LENGTH = 16  # characters of ACHTJE_SECRET_KEY


def secret_key(value: str | None, purpose: str) -> str:
    """ACHTJE_SECRET_KEY, when it is long enough to sign or encrypt with; else SettingsError
    saying what it is for (`purpose`)."""
    if not value or len(value) < MIN_SECRET_LENGTH:
        raise SettingsError(f"set ACHTJE_SECRET_KEY (at least {MIN_SECRET_LENGTH} characters): "
                            f"{purpose}")
    return value


class Settings(BaseSettings):
    """Every setting; the environment variable names are given in the README."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str = Field("sqlite+aiosqlite:///./achtje.db", alias="ACHTJE_DATABASE_URL")
    content_dir: Path | None = Field(None, alias="ACHTJE_CONTENT_DIR")
    log_level: str | None = Field(None, alias="ACHTJE_LOG_LEVEL")
    log_format: str = Field("text", alias="ACHTJE_LOG_FORMAT")  # text or json
    # Who may create a partnership with `setup` in chat: open, or closed with an allow-list.
    setup: str = Field("open", alias="ACHTJE_SETUP")
    setup_allow: str = Field("", alias="ACHTJE_SETUP_ALLOW")
    http_host: str = Field("127.0.0.1", alias="ACHTJE_HTTP_HOST")
    http_port: int = Field(3000, alias="ACHTJE_HTTP_PORT")
    # Where people reach this server from outside (https://achtje.example.nl): the
    # dashboard's links in chat (docs/dashboard.md) and the mail's unsubscribe link. Unset:
    # `dashboard` says it is not set up; the mail needs it.
    public_url: str | None = Field(None, alias="ACHTJE_PUBLIC_URL")
    # The scheduler (check-ins, reminders, nudges, summaries) in `achtje run` with platforms.
    scheduler: bool = Field(True, alias="ACHTJE_SCHEDULER")
    scheduler_tick: float = Field(30.0, gt=0, alias="ACHTJE_SCHEDULER_TICK")
    slack_bot_token: str | None = Field(None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: str | None = Field(None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: str | None = Field(None, alias="SLACK_APP_TOKEN")
    slack_api_url: str | None = Field(None, alias="ACHTJE_SLACK_API_URL")
    slack_client_id: str | None = Field(None, alias="SLACK_CLIENT_ID")
    slack_client_secret: str | None = Field(None, alias="SLACK_CLIENT_SECRET")
    # conversations.history/.replies calls a minute per workspace: 50 (Tier 3) for internal
    # and Marketplace apps; 1 for an app distributed outside the Marketplace.
    slack_history_per_minute: float = Field(50.0, gt=0, alias="ACHTJE_SLACK_HISTORY_PER_MINUTE")
    secret_key: str | None = Field(None, alias="ACHTJE_SECRET_KEY")
    telegram_bot_token: str | None = Field(None, alias="TELEGRAM_BOT_TOKEN")
    telegram_api_url: str = Field("https://api.telegram.org", alias="ACHTJE_TELEGRAM_API_URL")
    telegram_webhook_url: str | None = Field(None, alias="ACHTJE_TELEGRAM_WEBHOOK_URL")
    telegram_webhook_secret: str | None = Field(None, alias="ACHTJE_TELEGRAM_WEBHOOK_SECRET")
    # Microsoft Teams (adapters/teams, docs/teams.md): the Azure bot's app registration,
    # also under the names Microsoft's samples use (ours first when both are set).
    teams_app_id: str | None = Field(None, alias="ACHTJE_TEAMS_APP_ID", validation_alias=(
        AliasChoices("ACHTJE_TEAMS_APP_ID", "MICROSOFT_APP_ID")))
    teams_app_password: str | None = Field(
        None, alias="ACHTJE_TEAMS_APP_PASSWORD",
        validation_alias=AliasChoices("ACHTJE_TEAMS_APP_PASSWORD", "MICROSOFT_APP_PASSWORD"))
    teams_tenant_id: str | None = Field(
        None, alias="ACHTJE_TEAMS_TENANT_ID", validation_alias=AliasChoices(
            "ACHTJE_TEAMS_TENANT_ID", "MICROSOFT_APP_TENANTID", "MICROSOFT_APP_TENANT_ID"))
    # Instead of the secret: a PEM file with the app's RSA private key and its certificate.
    teams_certificate: Path | None = Field(None, alias="ACHTJE_TEAMS_CERTIFICATE")
    teams_certificate_password: str | None = Field(
        None, alias="ACHTJE_TEAMS_CERTIFICATE_PASSWORD")
    # Other endpoints, for the fakes in the tests and for sovereign clouds.
    teams_openid_url: str = Field(
        "https://login.botframework.com/v1/.well-known/openidconfiguration",
        alias="ACHTJE_TEAMS_OPENID_URL")
    teams_token_url: str | None = Field(None, alias="ACHTJE_TEAMS_TOKEN_URL")
    # E-mail (adapters/email, docs/email.md): the monthly summary for leaders and board.
    # smtp://user:pass@host:587 (STARTTLS), smtps://user:pass@host:465 (TLS from the start).
    smtp_url: str | None = Field(None, alias="ACHTJE_SMTP_URL")
    mail_from: str | None = Field(None, alias="ACHTJE_MAIL_FROM")

"""Configuration from the environment and an optional `.env` file."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting; the environment variable names are given in the README."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str = Field("sqlite+aiosqlite:///./achtje.db", alias="ACHTJE_DATABASE_URL")
    content_dir: Path | None = Field(None, alias="ACHTJE_CONTENT_DIR")
    log_level: str | None = Field(None, alias="ACHTJE_LOG_LEVEL")
    http_host: str = Field("127.0.0.1", alias="ACHTJE_HTTP_HOST")
    http_port: int = Field(3000, alias="ACHTJE_HTTP_PORT")
    slack_bot_token: str | None = Field(None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: str | None = Field(None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: str | None = Field(None, alias="SLACK_APP_TOKEN")
    telegram_bot_token: str | None = Field(None, alias="TELEGRAM_BOT_TOKEN")

    def platforms(self) -> list[str]:
        """The chat platforms whose tokens are set."""
        found = []
        if self.slack_bot_token:
            found.append("slack")
        if self.telegram_bot_token:
            found.append("telegram")
        return found

"""Microsoft Teams for achtje, on the Microsoft 365 Agents SDK's activity model: activities
on POST /api/messages, Adaptive Cards, proactive messages through stored conversation
references. `DESCRIPTION` is all the rest of achtje knows of it; the SDK is imported only
when the adapter is built (docs/teams.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from adapters.base import Platform
from adapters.teams.limits import LIMITS
from bot.privacy.redact import protect
from bot.settings import Settings, SettingsError

if TYPE_CHECKING:
    from adapters.teams.adapter import TeamsAdapter
    from adapters.web import WebServer
    from bot.engine import Engine

__all__ = ["DESCRIPTION", "build"]


def build(settings: Settings, engine: Engine, web: WebServer) -> TeamsAdapter:
    """The adapter as configured: the app id, and its secret or its certificate."""
    from adapters.teams.adapter import TeamsAdapter
    from adapters.teams.auth import TokenValidator
    from adapters.teams.tokens import Certificate, TokenProvider, token_url

    app_id, secret = settings.teams_app_id, settings.teams_app_password
    path = settings.teams_certificate
    if not app_id or not (secret or path):
        raise SettingsError("ACHTJE_TEAMS_APP_ID and ACHTJE_TEAMS_APP_PASSWORD (or "
                            "MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD) must both be set; "
                            "or ACHTJE_TEAMS_CERTIFICATE instead of the password")
    for hidden in (secret, settings.teams_certificate_password):
        if hidden:
            protect(hidden)  # never in a log record
    certificate = Certificate.from_file(path, settings.teams_certificate_password) \
        if path else None
    url = settings.teams_token_url or token_url(settings.teams_tenant_id)
    tokens = TokenProvider(app_id, None if certificate else secret, url, certificate)
    return TeamsAdapter(engine, app_id=app_id,
                        validator=TokenValidator(app_id, settings.teams_openid_url),
                        tokens=tokens, web=web)


DESCRIPTION = Platform(
    name="teams",
    settings=("teams_app_id",),
    limits=LIMITS,
    invites_in_channel=False,
    build=build,
)

"""The bot's own token for calls to the Bot Connector: OAuth client credentials against
Microsoft Entra ID (`{tenant}/oauth2/v2.0/token`, scope the Bot Framework), cached until
five minutes before it expires. The token URL is a setting (ACHTJE_TEAMS_TOKEN_URL) for
the fake in the tests and for sovereign clouds. The secret and the token are never logged.
"""

from __future__ import annotations

import asyncio
import time

import aiohttp

from bot.messages import DeliveryError, RetryLater

SCOPE = "https://api.botframework.com/.default"
MARGIN = 300


def token_url(tenant: str | None) -> str:
    return f"https://login.microsoftonline.com/{tenant or 'botframework.com'}/oauth2/v2.0/token"


class TokenProvider:
    def __init__(self, app_id: str, secret: str, url: str) -> None:
        self.app_id = app_id
        self._secret = secret
        self.url = url
        self._token: str | None = None
        self._until = 0.0
        self._lock = asyncio.Lock()

    async def token(self, http: aiohttp.ClientSession) -> str:
        async with self._lock:
            if self._token is None or time.monotonic() >= self._until:
                self._token, lifetime = await self._fetch(http)
                self._until = time.monotonic() + max(lifetime - MARGIN, 30)
            return self._token

    async def _fetch(self, http: aiohttp.ClientSession) -> tuple[str, float]:
        form = {"grant_type": "client_credentials", "client_id": self.app_id,
                "client_secret": self._secret, "scope": SCOPE}
        try:
            async with http.post(self.url, data=form) as response:
                if response.status == 429 or response.status >= 500:
                    raise RetryLater(float(response.headers.get("Retry-After", "30") or 30),
                                     f"token endpoint answered {response.status}")
                if response.status != 200:
                    raise DeliveryError(f"token endpoint refused us ({response.status}): "
                                        "check ACHTJE_TEAMS_APP_ID and _APP_PASSWORD")
                body = await response.json(content_type=None)
        except aiohttp.ClientError as exc:
            raise RetryLater(30.0, f"token endpoint unreachable ({type(exc).__name__})"
                             ) from None
        return str(body["access_token"]), float(body.get("expires_in", 3600))

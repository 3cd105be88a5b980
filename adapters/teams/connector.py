"""A small client of the Bot Connector REST API (v3) at the serviceUrl Teams names:
send an activity to a conversation, update one, open a personal chat. Every call carries
the bot's token; every refusal comes back typed like the other adapters' errors:

- 429 (throttled), 412, 502, 504 and other 5xx: `RetryLater`, after Retry-After if given;
- 403 (BotNotInConversationRoster, BotDisabledByAdmin, ConversationBlockedByUser) and
  404 (ConversationNotFound): `Unreachable`, the app was removed or the chat is gone;
- anything else (400, 401, 413 MessageSizeTooBig): `DeliveryError`;
- a timeout once the request was sent: `DeliveryUncertain` (it may have arrived).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import aiohttp

from adapters.teams.tokens import TokenProvider
from bot.messages import DeliveryError, DeliveryUncertain, RetryLater, Unreachable

TIMEOUT = aiohttp.ClientTimeout(total=20)
DEFAULT_RETRY = 5.0


class Connector:
    def __init__(self, tokens: TokenProvider) -> None:
        self.tokens = tokens
        self._http: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(timeout=TIMEOUT)
        return self._http

    async def send(self, service_url: str, conversation: str, activity: dict[str, Any],
                   reply_to: str | None = None) -> str:
        """Posts `activity`; returns the id Teams gave the message."""
        path = f"v3/conversations/{quote(conversation, safe='')}/activities"
        if reply_to:
            path += f"/{quote(reply_to, safe='')}"
        body = await self._call("POST", service_url, path, activity)
        return str(body.get("id", ""))

    async def update(self, service_url: str, conversation: str, activity_id: str,
                     activity: dict[str, Any]) -> None:
        path = (f"v3/conversations/{quote(conversation, safe='')}/activities/"
                f"{quote(activity_id, safe='')}")
        await self._call("PUT", service_url, path, {**activity, "id": activity_id})

    async def create_conversation(self, service_url: str, params: dict[str, Any]) -> str:
        """Opens (or finds) a personal chat; returns its conversation id."""
        body = await self._call("POST", service_url, "v3/conversations", params)
        return str(body["id"])

    async def _call(self, method: str, service_url: str, path: str, payload: dict[str, Any]
                    ) -> dict[str, Any]:
        http = self._session()
        token = await self.tokens.token(http)
        url = service_url.rstrip("/") + "/" + path
        headers = {"Authorization": f"Bearer {token}"}
        try:
            async with http.request(method, url, json=payload, headers=headers) as response:
                text = await response.text()
                if response.status >= 300:
                    raise delivery_error(response.status, response.headers.get("Retry-After"),
                                         text)
        except TimeoutError:
            raise DeliveryUncertain(f"Teams did not answer {method} {path} in time") from None
        except aiohttp.ClientConnectionError as exc:
            raise RetryLater(DEFAULT_RETRY, f"Teams unreachable ({type(exc).__name__})"
                             ) from None
        try:
            found = json.loads(text or "{}")
        except ValueError:
            return {}
        return found if isinstance(found, dict) else {}


def delivery_error(status: int, retry_after: str | None, body: str) -> DeliveryError:
    code = _code(body)
    what = f"Teams answered {status} {code}".rstrip()
    if status in (412, 429, 502, 504) or status >= 500:
        try:
            wait = float(retry_after) if retry_after else DEFAULT_RETRY
        except ValueError:
            wait = DEFAULT_RETRY
        return RetryLater(wait, what)
    if status in (403, 404):
        return Unreachable(what)
    return DeliveryError(what)


def _code(body: str) -> str:
    try:
        found = json.loads(body)
    except ValueError:
        return ""
    error = found.get("error") if isinstance(found, dict) else None
    return str(error.get("code", "")) if isinstance(error, dict) else ""

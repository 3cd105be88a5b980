"""Checks the token on every request Teams sends to /api/messages (Bot Framework channel
authentication): an RS256 JWT in `Authorization: Bearer ...`, signed with a key published
through the OpenID metadata, issued by the Bot Framework, for our app id, not expired,
and naming the same serviceUrl as the activity. Anything else is refused; the reason is
logged without the token.

The metadata URL is a setting (ACHTJE_TEAMS_OPENID_URL), so the tests point it at a fake
issuer on 127.0.0.1. Keys are cached for a day and fetched again, at most once a minute,
when a token names a key id we do not know.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
import jwt
from jwt.algorithms import RSAAlgorithm

ISSUER = "https://api.botframework.com"
LEEWAY = 300  # seconds of clock skew, as the Bot Framework allows
KEYS_FOR = 24 * 3600
REFETCH_AFTER = 60
CHANNEL = "msteams"


class Refused(Exception):
    """The request's token is not one Teams sent for us; the message says why (no secrets)."""


class TokenValidator:
    def __init__(self, app_id: str, openid_url: str, *, issuer: str = ISSUER) -> None:
        self.app_id = app_id
        self.openid_url = openid_url
        self.issuer = issuer
        self._keys: dict[str, dict[str, Any]] = {}
        self._fetched = 0.0
        self._lock = asyncio.Lock()

    async def validate(self, header: str | None, service_url: str | None) -> dict[str, Any]:
        """The token's claims, or `Refused`."""
        scheme, _, token = (header or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Refused("no bearer token")
        try:
            head = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise Refused(f"not a JWT ({type(exc).__name__})") from None
        if head.get("alg") != "RS256":
            raise Refused("not RS256")
        if unverified.get("iss") != self.issuer:
            raise Refused("wrong issuer")  # before any key is fetched for it
        key = await self._key(str(head.get("kid", "")))
        endorsements = key.get("endorsements")
        if isinstance(endorsements, list) and CHANNEL not in endorsements:
            raise Refused("key not endorsed for Teams")
        try:
            claims: dict[str, Any] = jwt.decode(
                token, RSAAlgorithm.from_jwk(json.dumps(key)),  # type: ignore[arg-type]
                algorithms=["RS256"], audience=self.app_id, issuer=self.issuer,
                leeway=LEEWAY, options={"require": ["exp", "iss", "aud"]})
        except jwt.PyJWTError as exc:
            raise Refused(type(exc).__name__) from None
        claimed = claims.get("serviceurl") or claims.get("serviceUrl")
        if claimed is not None and _norm(str(claimed)) != _norm(service_url or ""):
            raise Refused("serviceUrl does not match the token")
        return claims

    async def _key(self, kid: str) -> dict[str, Any]:
        async with self._lock:
            now = time.monotonic()
            stale = now - self._fetched > KEYS_FOR
            unknown = kid not in self._keys and now - self._fetched > REFETCH_AFTER
            if stale or unknown or not self._fetched:
                self._keys = await self._fetch()
                self._fetched = now
        key = self._keys.get(kid)
        if key is None:
            raise Refused("unknown signing key")
        return key

    async def _fetch(self) -> dict[str, dict[str, Any]]:
        timeout = aiohttp.ClientTimeout(total=10)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as http:
                async with http.get(self.openid_url) as response:
                    response.raise_for_status()
                    metadata = await response.json(content_type=None)
                async with http.get(str(metadata["jwks_uri"])) as response:
                    response.raise_for_status()
                    jwks = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, KeyError, ValueError) as exc:
            raise Refused(f"signing keys unavailable ({type(exc).__name__})") from None
        return {str(key["kid"]): key for key in jwks.get("keys", []) if "kid" in key}


def _norm(url: str) -> str:
    return url.rstrip("/").lower()

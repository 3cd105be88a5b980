"""The bot's own token for calls to the Bot Connector: OAuth client credentials against
Microsoft Entra ID (`{tenant}/oauth2/v2.0/token`, scope the Bot Framework), cached until
five minutes before it expires. The token URL is a setting (ACHTJE_TEAMS_TOKEN_URL) for
the fake in the tests and for sovereign clouds. The secret and the token are never logged.

The app proves who it is with its client secret, or with a certificate: then each token
request carries a short-lived JWT (a client assertion) signed with the certificate's
private key, PS256, naming the certificate by its SHA-256 thumbprint (`x5t#S256`), for the
token endpoint only (`aud`), from the app itself (`iss` = `sub` = the app id).
"""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.messages import DeliveryError, RetryLater
from bot.settings import SettingsError

SCOPE = "https://api.botframework.com/.default"
MARGIN = 300
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME = 600


def token_url(tenant: str | None) -> str:
    return f"https://login.microsoftonline.com/{tenant or 'botframework.com'}/oauth2/v2.0/token"


@dataclass(frozen=True, repr=False)
class Certificate:
    """The app registration's certificate: its private key, and its thumbprint as Entra ID
    knows it (base64url SHA-256 of the certificate's DER form)."""

    key: rsa.RSAPrivateKey
    thumbprint: str

    @classmethod
    def from_pem(cls, data: bytes, password: str | None = None) -> Certificate:
        """From one PEM holding the RSA private key and the certificate (as `openssl req
        -x509 -newkey rsa:2048 ...` writes them, concatenated)."""
        try:
            key = serialization.load_pem_private_key(
                data, password.encode() if password else None)
            certificate = x509.load_pem_x509_certificate(data)
        except (ValueError, TypeError) as exc:
            raise SettingsError("ACHTJE_TEAMS_CERTIFICATE must be a PEM file with the RSA "
                                "private key and its certificate (the key's password in "
                                "ACHTJE_TEAMS_CERTIFICATE_PASSWORD)") from exc
        if not isinstance(key, rsa.RSAPrivateKey):
            raise SettingsError("the Teams certificate's key must be an RSA key")
        digest = certificate.fingerprint(hashes.SHA256())
        return cls(key, base64.urlsafe_b64encode(digest).rstrip(b"=").decode())

    @classmethod
    def from_file(cls, path: Path, password: str | None = None) -> Certificate:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SettingsError(f"cannot read the Teams certificate {path}: {exc.strerror}"
                                ) from exc
        return cls.from_pem(data, password)

    def assertion(self, app_id: str, audience: str) -> str:
        now = int(time.time())
        claims = {"aud": audience, "iss": app_id, "sub": app_id, "jti": str(uuid.uuid4()),
                  "iat": now, "nbf": now, "exp": now + ASSERTION_LIFETIME}
        return jwt.encode(claims, self.key, algorithm="PS256",
                          headers={"typ": "JWT", "x5t#S256": self.thumbprint})


class TokenProvider:
    def __init__(self, app_id: str, secret: str | None, url: str,
                 certificate: Certificate | None = None) -> None:
        if (secret is None) == (certificate is None):
            raise ValueError("a Teams token needs the client secret or a certificate")
        self.app_id = app_id
        self._secret = secret
        self._certificate = certificate
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

    def _form(self) -> dict[str, str]:
        form = {"grant_type": "client_credentials", "client_id": self.app_id, "scope": SCOPE}
        if self._certificate is not None:
            form.update(client_assertion_type=ASSERTION_TYPE,
                        client_assertion=self._certificate.assertion(self.app_id, self.url))
        else:
            assert self._secret is not None
            form["client_secret"] = self._secret
        return form

    async def _fetch(self, http: aiohttp.ClientSession) -> tuple[str, float]:
        try:
            async with http.post(self.url, data=self._form()) as response:
                if response.status == 429 or response.status >= 500:
                    raise RetryLater(float(response.headers.get("Retry-After", "30") or 30),
                                     f"token endpoint answered {response.status}")
                if response.status != 200:
                    raise DeliveryError(f"token endpoint refused us ({response.status}): "
                                        "check the Teams app id and its secret or certificate")
                body = await response.json(content_type=None)
        except aiohttp.ClientError as exc:
            raise RetryLater(30.0, f"token endpoint unreachable ({type(exc).__name__})"
                             ) from None
        return str(body["access_token"]), float(body.get("expires_in", 3600))

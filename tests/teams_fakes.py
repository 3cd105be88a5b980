"""Fakes for the Teams adapter, over real HTTP on 127.0.0.1: one aiohttp server plays the
Bot Framework token issuer (OpenID metadata and JWKS, with a test RSA key that signs the
tokens of incoming requests), Entra ID's token endpoint (client credentials), and the Bot
Connector at the serviceUrl the activities name (send, reply, update, create conversation;
failures scripted per conversation)."""

from __future__ import annotations

import base64
import itertools
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import jwt
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from jwt.algorithms import RSAAlgorithm

from adapters.teams import build
from adapters.teams.adapter import TeamsAdapter
from adapters.web import WebServer
from bot.engine import Engine
from bot.settings import Settings

APP_ID = "00000000-aaaa-bbbb-cccc-000000000001"
SECRET = "app-secret-not-for-logs"
TENANT = "tenant-1"
ISSUER = "https://api.botframework.com"
BOT = {"id": f"28:{APP_ID}", "name": "achtje"}
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
CERT_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def certificate_pem(key: rsa.RSAPrivateKey) -> tuple[bytes, str]:
    """A self-signed certificate for `key`, as a PEM of key and certificate, and its
    SHA-256 thumbprint in base64url (what the app registration shows Entra ID)."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "achtje test")])
    now = datetime.now(UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - timedelta(days=1))
                   .not_valid_after(now + timedelta(days=30)).sign(key, hashes.SHA256()))
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    pem += certificate.public_bytes(serialization.Encoding.PEM)
    thumbprint = base64.urlsafe_b64encode(certificate.fingerprint(hashes.SHA256()))
    return pem, thumbprint.rstrip(b"=").decode()


CERT_PEM, CERT_THUMBPRINT = certificate_pem(CERT_KEY)


@dataclass(frozen=True)
class Person:
    member: str  # "29:..."
    aad: str
    name: str

    @property
    def ref(self) -> str:
        return f"{TENANT}:{self.aad}"


ANNA = Person("29:anna", "aad-anna", "Anna")
BOB = Person("29:bob", "aad-bob", "Bob")


@dataclass
class Sent:
    method: str
    conversation: str
    activity: dict[str, Any]
    id: str
    reply_to: str | None = None

    @property
    def card(self) -> dict[str, Any] | None:
        for attachment in self.activity.get("attachments") or []:
            if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
                return dict(attachment["content"])
        return None

    @property
    def text(self) -> str:
        card = self.card
        if card is None:
            return str(self.activity.get("text", ""))
        return "\n".join(b.get("text", "") for b in card["body"] if b["type"] == "TextBlock")

    def buttons(self) -> dict[str, dict[str, Any]]:
        """Button title -> its data."""
        card = self.card or {}
        actions = list(card.get("actions", []))
        for item in card.get("body", []):
            if item["type"] == "ActionSet":
                actions += item["actions"]
        return {a["title"]: a.get("data", {}) for a in actions}


@dataclass
class Fake:
    url: str = ""
    sent: list[Sent] = field(default_factory=list)
    token_calls: int = 0
    fail: dict[str, list[tuple[int, dict[str, str], dict[str, Any]]]] = field(
        default_factory=dict)
    created: list[dict[str, Any]] = field(default_factory=list)
    assertions: list[dict[str, Any]] = field(default_factory=list)  # certificate logins
    # conversation (threads included) -> (posts to let through, then this failure once)
    after: dict[str, tuple[int, tuple[int, dict[str, str], dict[str, Any]]]] = field(
        default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/openid", self._openid)
        app.router.add_get("/keys", self._keys)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post("/v3/conversations/{conv}/activities", self._send)
        app.router.add_post("/v3/conversations/{conv}/activities/{reply}", self._send)
        app.router.add_put("/v3/conversations/{conv}/activities/{id}", self._update)
        return app

    async def _openid(self, _r: web.Request) -> web.Response:
        return web.json_response({"issuer": ISSUER, "jwks_uri": f"{self.url}/keys"})

    async def _keys(self, _r: web.Request) -> web.Response:
        jwk = json.loads(RSAAlgorithm.to_jwk(KEY.public_key()))
        jwk.update(kid="k1", use="sig", endorsements=["msteams"])
        return web.json_response({"keys": [jwk]})

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        assert form["client_id"] == APP_ID
        assert form["scope"] == "https://api.botframework.com/.default"
        if "client_assertion" in form:  # a certificate: as Entra ID checks the assertion
            assertion = str(form["client_assertion"])
            assert form["client_assertion_type"] == \
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
            header = jwt.get_unverified_header(assertion)
            if header.get("x5t#S256") != CERT_THUMBPRINT:
                return web.json_response({"error": "invalid_client"}, status=401)
            try:
                claims = jwt.decode(assertion, CERT_KEY.public_key(), algorithms=["PS256"],
                                    audience=f"{self.url}{request.path}",
                                    options={"require": ["exp", "nbf", "jti", "iss", "sub"]})
            except jwt.InvalidTokenError:
                return web.json_response({"error": "invalid_client"}, status=401)
            assert claims["iss"] == claims["sub"] == APP_ID
            self.assertions.append(claims)
        elif form.get("client_secret") != SECRET:
            return web.json_response({"error": "invalid_client"}, status=401)
        self.token_calls += 1
        return web.json_response({"token_type": "Bearer", "expires_in": 3600,
                                  "access_token": "bot-token"})

    def _authorised(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == "Bearer bot-token"

    async def _create(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({}, status=401)
        params = await request.json()
        self.created.append(params)
        return web.json_response({"id": f"a:personal-{params['members'][0]['id']}"})

    def _scripted(self, conversation: str) -> web.Response | None:
        base = conversation.split(";", 1)[0]
        if base in self.after:
            through, failure = self.after[base]
            if through <= 0:
                del self.after[base]
                return web.json_response(failure[2], status=failure[0], headers=failure[1])
            self.after[base] = (through - 1, failure)
        queue = self.fail.get(conversation)
        if not queue:
            return None
        status, headers, body = queue.pop(0)
        return web.json_response(body, status=status, headers=headers)

    async def _send(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({}, status=401)
        conv = request.match_info["conv"]
        refused = self._scripted(conv)
        if refused is not None:
            return refused
        sent = Sent("send", conv, await request.json(), f"m{next(self._ids)}",
                    request.match_info.get("reply"))
        self.sent.append(sent)
        return web.json_response({"id": sent.id})

    async def _update(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({}, status=401)
        conv = request.match_info["conv"]
        self.sent.append(Sent("update", conv, await request.json(), request.match_info["id"]))
        return web.json_response({"id": request.match_info["id"]})

    def posts(self, conversation: str) -> list[Sent]:
        return [s for s in self.sent if s.conversation == conversation and s.method == "send"]


def token(*, key: rsa.RSAPrivateKey = KEY, aud: str = APP_ID, iss: str = ISSUER,
          expires_in: float = 600, service_url: str | None = None) -> str:
    now = time.time()
    claims: dict[str, Any] = {"iss": iss, "aud": aud, "exp": now + expires_in,
                              "nbf": now - 10, "iat": now - 10}
    if service_url is not None:
        claims["serviceurl"] = service_url
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})


@dataclass
class Teams:
    """The running adapter, the fakes, and a way to play Teams sending activities."""

    fake: Fake
    adapter: TeamsAdapter
    web: WebServer
    http: aiohttp.ClientSession
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))

    @property
    def service_url(self) -> str:
        return self.fake.url + "/"

    def activity(self, person: Person, conversation: str, kind: str = "personal",
                 **extra: Any) -> dict[str, Any]:
        return {"type": "message", "id": f"act{next(self._ids)}", "channelId": "msteams",
                "serviceUrl": self.service_url, "locale": "nl-NL",
                "from": {"id": person.member, "aadObjectId": person.aad, "name": person.name},
                "recipient": BOT,
                "conversation": {"id": conversation, "conversationType": kind,
                                 "tenantId": TENANT},
                "channelData": {"tenant": {"id": TENANT}}, **extra}

    async def post(self, activity: dict[str, Any], bearer: str | None = None,
                   header: str | None = None) -> int:
        """Sends one activity as Teams would; returns the HTTP status."""
        return (await self.exchange(activity, bearer, header))[0]

    async def exchange(self, activity: dict[str, Any], bearer: str | None = None,
                       header: str | None = None) -> tuple[int, Any]:
        """Sends one activity; returns the HTTP status and the JSON body (or None)."""
        if header is None:
            header = f"Bearer {bearer or token(service_url=activity.get('serviceUrl'))}"
        headers = {"Authorization": header} if header else {}
        async with self.http.post(f"{self.web.url}/api/messages", json=activity,
                                  headers=headers) as response:
            text = await response.text()
            return response.status, json.loads(text) if text else None

    async def say(self, person: Person, text: str, conversation: str = "",
                  kind: str = "personal", **extra: Any) -> list[Sent]:
        before = len(self.fake.sent)
        conversation = conversation or f"a:personal-{person.member}"
        assert await self.post(self.activity(person, conversation, kind, text=text,
                                             **extra)) == 200
        return self.fake.sent[before:]

    async def press(self, person: Person, label: str, conversation: str = "") -> list[Sent]:
        """Presses the button `label` on the latest card in the chat that has it."""
        conversation = conversation or f"a:personal-{person.member}"
        card = next(s for s in reversed(self.fake.posts(conversation)) if label in s.buttons())
        before = len(self.fake.sent)
        activity = self.activity(person, conversation, kind_of(conversation),
                                 value=card.buttons()[label], replyToId=card.id)
        assert await self.post(activity) == 200
        return self.fake.sent[before:]


    async def type_in(self, person: Person, text: str, conversation: str = "") -> list[Sent]:
        """Types `text` in the field of the latest card that has one, and sends it."""
        conversation = conversation or f"a:personal-{person.member}"
        card = next(s for s in reversed(self.fake.posts(conversation)) if s.card and any(
            item["type"] == "Input.Text" for item in s.card["body"]))
        field = next(i for i in card.card["body"] if i["type"] == "Input.Text")  # type: ignore[index]
        send = next(a for a in card.card["actions"] if a["type"] == "Action.Submit")  # type: ignore[index]
        before = len(self.fake.sent)
        activity = self.activity(person, conversation, kind_of(conversation),
                                 replyToId=card.id,
                                 value={**send.get("data", {}), field["id"]: text})
        assert await self.post(activity) == 200
        return self.fake.sent[before:]


def kind_of(conversation: str) -> str:
    """The conversationType Teams gives a conversation id of this form."""
    base = conversation.split(";", 1)[0]
    if base.endswith(("@thread.tacv2", "@thread.skype")):
        return "channel"
    return "groupChat" if base.endswith("@thread.v2") else "personal"


async def running(engine: Engine, certificate: Path | None = None) -> AsyncIterator[Teams]:
    """The adapter and the fakes, running; with `certificate` (a PEM file) the app logs in
    with it instead of its secret."""
    fake = Fake()
    runner = web.AppRunner(fake.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    fake.url = f"http://127.0.0.1:{port}"
    login: dict[str, Any] = {"ACHTJE_TEAMS_CERTIFICATE": certificate} if certificate else {
        "ACHTJE_TEAMS_APP_PASSWORD": SECRET}
    settings = Settings(ACHTJE_TEAMS_APP_ID=APP_ID, **login,
                        ACHTJE_TEAMS_TENANT_ID=TENANT,
                        ACHTJE_TEAMS_OPENID_URL=f"{fake.url}/openid",
                        ACHTJE_TEAMS_TOKEN_URL=f"{fake.url}/{TENANT}/oauth2/v2.0/token")
    server = WebServer(port=0)
    adapter = build(settings, engine, server)
    await server.start()
    await adapter.start()
    async with aiohttp.ClientSession() as http:
        yield Teams(fake, adapter, server, http)
    await adapter.stop()
    await server.stop()
    await runner.cleanup()

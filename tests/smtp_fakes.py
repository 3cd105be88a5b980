"""A real SMTP server for the e-mail tests: aiosmtpd in the test's event loop, on
127.0.0.1 port 0. It keeps every message it accepted, parsed, and can be told how to
answer the next recipients and messages (a 4xx, a 5xx, or dropping the connection after
it took the message, before its answer). `Logins` records what AUTH was given, and whether
the connection was encrypted by then."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session

DROP = "drop"  # a scripted answer: take the message, then hang up without answering


@dataclass
class Mailbox:
    """aiosmtpd's handler: what the server accepted, and the answers it still has to give
    (each list is used front first; empty means "250 OK")."""

    accepted: list[tuple[str, EmailMessage]] = field(default_factory=list)
    taken_then_dropped: list[EmailMessage] = field(default_factory=list)
    rcpt_answers: list[str] = field(default_factory=list)
    data_answers: list[str] = field(default_factory=list)
    port: int = 0

    @property
    def messages(self) -> list[EmailMessage]:
        return [message for _, message in self.accepted]

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        answer = self.rcpt_answers.pop(0) if self.rcpt_answers else "250 OK"
        if answer.startswith("250"):
            envelope.rcpt_tos.append(address)
        return answer

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        answer = self.data_answers.pop(0) if self.data_answers else "250 OK"
        content = envelope.original_content or b""
        parsed: Any = message_from_bytes(content, policy=policy.default)
        if answer == DROP:
            self.taken_then_dropped.append(parsed)
            assert server.transport is not None
            server.transport.abort()
            return "250 OK"  # never reaches the client
        if answer.startswith("250"):
            for address in envelope.rcpt_tos:
                self.accepted.append((address, parsed))
        return answer


@dataclass
class Logins:
    """An aiosmtpd authenticator that takes one user name and password."""

    user: bytes
    password: bytes
    seen: list[tuple[bytes, bool]] = field(default_factory=list)  # (user, encrypted)

    def __call__(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                 data: Any) -> AuthResult:
        encrypted = session.ssl is not None or server.transport.get_extra_info("sslcontext") \
            is not None
        self.seen.append((data.login, encrypted))
        return AuthResult(success=(data.login, data.password) == (self.user, self.password),
                          handled=False)  # aiosmtpd answers a failure with 535 itself


@asynccontextmanager
async def smtp_server(implicit_tls: ssl.SSLContext | None = None,
                      **options: Any) -> AsyncIterator[Mailbox]:
    """The server, listening until the block ends. `implicit_tls`: TLS from the first byte
    (smtps); `options` go to aiosmtpd's `SMTP` (a `tls_context` offers STARTTLS, an
    `authenticator` takes AUTH)."""
    mailbox = Mailbox()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(mailbox, hostname="smtp.test", ident="achtje test SMTP", **options),
        "127.0.0.1", 0, ssl=implicit_tls)
    mailbox.port = server.sockets[0].getsockname()[1]
    try:
        yield mailbox
    finally:
        server.close()
        await server.wait_closed()

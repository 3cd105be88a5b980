"""Handing one message to the mail server (aiosmtplib), and what its answer means.

The only place achtje speaks SMTP. A temporary refusal (4xx) or a connection that could not
be made or broke before the message was handed over is `RetryLater`; a permanent refusal
(5xx) is `Unreachable`. Once the server said 354 to DATA and got the message, a connection
lost or timed out before its final answer leaves the mail in doubt (it may have been
accepted and will then be delivered): `DeliveryUncertain`, never sent again by itself
(docs/email.md, "Never twice").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

import aiosmtplib

from bot.messages import DeliveryUncertain, RetryLater, Unreachable
from bot.settings import SettingsError

logger = logging.getLogger(__name__)
TIMEOUT = 30.0  # seconds per SMTP command
RETRY_AFTER = 60.0  # seconds after a temporary refusal or a connection that failed


@dataclass(frozen=True)
class MailServer:
    """Where mail goes, from ACHTJE_SMTP_URL: smtp://user:pass@host:587 (STARTTLS; with a
    password always, without one when the server offers it), smtps://user:pass@host:465
    (TLS from the first byte)."""

    host: str
    port: int
    username: str | None
    password: str | None
    implicit_tls: bool

    @classmethod
    def parse(cls, url: str) -> MailServer:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise SettingsError(f"ACHTJE_SMTP_URL is not a valid URL: {exc}") from None
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise SettingsError("ACHTJE_SMTP_URL must look like smtp://user:password@host:587 "
                                "or smtps://user:password@host:465")
        implicit = parts.scheme == "smtps"
        return cls(parts.hostname, port or (465 if implicit else 587),
                   unquote(parts.username) if parts.username else None,
                   unquote(parts.password) if parts.password else None, implicit)

    def __str__(self) -> str:  # never the password
        return f"{'smtps' if self.implicit_tls else 'smtp'}://{self.host}:{self.port}"


def _refused(code: int, what: str, message: str) -> Exception:
    text = f"{what}: {code} {message}".strip()
    if 400 <= code < 500:
        return RetryLater(RETRY_AFTER, f"the mail server said {text}")
    return Unreachable(f"the mail server refused it: {text}")


async def deliver(server: MailServer, sender: str, recipient: str,
                  message: EmailMessage) -> None:
    """Send `message` to `recipient` in one SMTP session; raises a `DeliveryError`."""
    client = aiosmtplib.SMTP(
        hostname=server.host, port=server.port, username=server.username,
        password=server.password, use_tls=server.implicit_tls,
        # A password never travels unencrypted: STARTTLS is required then.
        start_tls=None if server.implicit_tls or server.username is None else True,
        timeout=TIMEOUT)
    data = bytes(message)
    try:
        try:
            await client.connect()
        except (aiosmtplib.SMTPException, OSError) as exc:
            # Also a refused greeting or login: the server's or our settings' trouble, not
            # the recipient's, so the mail waits until someone fixes it (or it expires).
            logger.error("cannot hand mail to %s: %s", server, exc)
            raise RetryLater(RETRY_AFTER, f"{server} out of reach: {exc}") from exc
        try:
            await client.mail(sender)
            await client.rcpt(recipient)
        except aiosmtplib.SMTPResponseException as exc:
            raise _refused(exc.code, "before the message", exc.message) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise RetryLater(RETRY_AFTER, f"{server} out of reach: {exc}") from exc
        try:
            await client.data(data)
        except aiosmtplib.SMTPResponseException as exc:
            raise _refused(exc.code, "the message", exc.message) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            # It may have been handed over: the server may deliver it.
            raise DeliveryUncertain(f"{server}: no answer after the message: {exc}") from exc
    finally:
        if client.is_connected:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()

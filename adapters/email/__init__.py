"""E-mail as a platform that only sends: the monthly summary for project leaders and board
members (docs/email.md). Switched on by ACHTJE_SMTP_URL; needs ACHTJE_MAIL_FROM, and
ACHTJE_PUBLIC_URL with ACHTJE_SECRET_KEY for the one-click unsubscribe link every mail
carries (served on the shared web server)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from adapters.base import Platform
from adapters.email.adapter import LIMITS, STOP_PATH, EmailAdapter
from adapters.email.smtp import MailServer
from adapters.email.unsubscribe import Unsubscribe
from bot.mail.address import address_problem
from bot.mail.plan import PLATFORM
from bot.messages import Adapter
from bot.settings import Settings, SettingsError, secret_key

if TYPE_CHECKING:
    from adapters.web import WebServer
    from bot.engine import Engine

def build(settings: Settings, engine: Engine, web: WebServer) -> Adapter:
    """The adapter, and the unsubscribe link's two routes on `web`."""
    if not settings.smtp_url:
        raise SettingsError("set ACHTJE_SMTP_URL to send mail")
    server = MailServer.parse(settings.smtp_url)
    sender = settings.mail_from or ""
    if not sender or address_problem(sender) is not None:
        raise SettingsError("set ACHTJE_MAIL_FROM to the address mail comes from "
                            "(achtje@school.nl)")
    if not settings.public_url or not settings.public_url.startswith(("https://", "http://")):
        raise SettingsError("set ACHTJE_PUBLIC_URL (https://achtje.school.nl): every mail "
                            "carries a link to stop it, served by this process")
    key = secret_key(settings.secret_key, "it signs the links to stop the mail")
    unsubscribe = Unsubscribe(engine.sessions, engine.content, key)
    web.add_route("GET", STOP_PATH, unsubscribe.show)
    web.add_route("POST", STOP_PATH, unsubscribe.stop)
    return EmailAdapter(server, sender, engine.sessions, engine.content, key,
                        settings.public_url)


def no_chat(kind: str, reference: str) -> str | None:
    """Nobody chats by e-mail: an address goes in the member list's email column."""
    return ("e-mail is no chat platform: give the address in the email column of "
            "`achtje member import`")


DESCRIPTION = Platform(name=PLATFORM, settings=("smtp_url",), limits=LIMITS,
                       invites_in_channel=False, build=build, check_ref=no_chat)

"""The e-mail platform's adapter: the scheduler's summary mails, one SMTP session each.

A mail's target is the member's id, not an address: the address is read when the mail
goes, so an address changed or erased after planning counts, and a member who stopped the
mail (`mail uit`, the link) after it was planned gets nothing. Nobody chats over e-mail, so
`send` to a chat is refused.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import make_msgid

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.email.mime import Envelope, build_mail, build_note
from adapters.email.smtp import MailServer, deliver
from bot.content import Content
from bot.mail.plan import PLATFORM, how_to_stop
from bot.mail.store import mail_recipient
from bot.mail.token import unsubscribe_token
from bot.messages import Parts, Reply, RetryLater, Text, Unreachable
from bot.rates import PlatformLimits, Rate

logger = logging.getLogger(__name__)
LIMITS = PlatformLimits(overall=Rate(per_second=5, burst=10))  # kind to a small mail server
STOP_PATH = "/mail/stop/{token}"
LOGIN_BY_MAIL_PATH = "/dashboard/login"  # where one asks for a login link by mail
RETRY_GROWTH = 4
MAX_WAIT = 6 * 3600.0


class EmailAdapter:
    platform = PLATFORM
    limits = LIMITS
    invites_in_channel = False
    takes_parts = True  # for the outbox id: the mail's Message-ID, the same on a resend

    def __init__(self, server: MailServer, sender: str, sessions: async_sessionmaker[AsyncSession],
                 content: Content, secret: str, public_url: str) -> None:
        self.server, self.sender, self.sessions = server, sender, sessions
        self.content, self.secret = content, secret
        self.public_url = public_url.rstrip("/")
        self.domain = sender.rpartition("@")[2]
        self._tries: dict[str, int] = {}  # temporary refusals in a row, per member

    async def start(self) -> None:
        logger.info("mail goes out through %s from %s", self.server, self.sender)

    async def stop(self) -> None:
        return None

    def unsubscribe_link(self, member_id: int) -> str:
        token = unsubscribe_token(self.secret, member_id)
        return self.public_url + STOP_PATH.format(token=token)

    async def send(self, chat: str, replies: Sequence[Reply], *,
                   parts: Parts | None = None) -> None:
        raise Unreachable("e-mail has no chats: mail goes to a member")

    async def send_direct(self, user: str, replies: Sequence[Reply], *,
                          parts: Parts | None = None) -> None:
        if parts is not None and parts.ref(0) is not None:
            return  # recorded as handed over already
        async with self.sessions() as session:
            found = await mail_recipient(session, int(user)) if user.isdigit() else None
        if found is None or found.address is None:
            raise Unreachable("no e-mail address for this member any more")
        if found.stopped:
            raise Unreachable("the member stopped the summary mail")
        if len(replies) < 2 or not isinstance(replies[0], Text) \
                or not isinstance(replies[-1], Text):
            raise ValueError("a mail is its subject, the summary and why it comes")
        link = self.unsubscribe_link(found.member_id)
        now = datetime.now(UTC)
        key = parts.key if parts is not None else f"{found.member_id}.{int(now.timestamp())}"
        lang = found.language
        envelope = Envelope(
            sender=self.sender, recipient=found.address, name=found.name, lang=lang,
            footer="\n".join((replies[-1].text, self.content.text(
                "mail_dashboard", lang, url=self.public_url + LOGIN_BY_MAIL_PATH),
                how_to_stop(self.content, lang, link, mail_only=found.mail_only))),
            unsubscribe=link, chart_alt=self.content.text("mail_chart_alt", lang),
            message_id=f"<achtje.outbox.{key}@{self.domain}>", date=now)
        message = build_mail(replies[0].text, replies[1:-1], envelope)
        if parts is not None:
            await parts.before(0)
        try:
            await deliver(self.server, self.sender, found.address, message)
        except RetryLater as exc:
            # A mail server may be away for hours: wait longer each time (1, 4, 16 minutes,
            # about an hour, 4 hours, then 6), so the sender's attempts span most of the
            # mail's two days instead of a few minutes.
            tries = self._tries[user] = self._tries.get(user, 0) + 1
            wait = min(exc.retry_after * RETRY_GROWTH ** (tries - 1), MAX_WAIT)
            raise RetryLater(wait, str(exc)) from exc
        except Exception:
            self._tries.pop(user, None)  # settled otherwise: the next mail starts afresh
            raise
        self._tries.pop(user, None)
        if parts is not None:
            parts.posted(0, found.address.rpartition("@")[2], key)

    async def send_note(self, address: str, name: str, lang: str, subject: str,
                        text: str) -> None:
        """A short mail straight to the server, not through the outbox: the dashboard's
        login link, which is useless after its few minutes and must not be kept (the
        outbox would store it in the database)."""
        now = datetime.now(UTC)
        message = build_note(subject, text, self.sender, address, name, lang,
                             make_msgid("achtje.login", self.domain), now)
        await deliver(self.server, self.sender, address, message)

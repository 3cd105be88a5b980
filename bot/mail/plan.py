"""The summary mail of one month: who gets it and what it says, as outbox envelopes.

A mail is one outbox row (kind `summary_mail`, platform `email`) for one member, keyed by
the member and the summary's month, so each person gets a month's mail at most once,
whether the scheduler or `achtje summary --email` queued it. Its replies are, in order: the
subject (a `Text`), the summary as in chat, and why the person gets it. The address is not
in the row: the e-mail platform looks it up when it sends, so a changed or erased address
counts. Project leaders get the full version; board members who are no leader the
channel's version, since the full one is confidential to the project leaders. Without
ACHTJE_SMTP_URL nothing is queued.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.content import Content
from bot.domain import LEADER_ROLES
from bot.mail.store import mail_recipients
from bot.messages import Text
from bot.outbox import Envelope
from bot.store.models import Member, Partnership
from bot.summary.render import SummaryMessages

MAIL_KIND = "summary_mail"
PLATFORM = "email"
# A mail may wait out a mail server's trouble longer than a chat message waits for school
# hours; after this it is `expired` (and listed by `achtje outbox`).
MAIL_EXPIRES = timedelta(days=2)


async def mail_envelopes(session: AsyncSession, content: Content, messages: SummaryMessages,
                         partnership: Partnership, now: datetime) -> list[Envelope]:
    """One mail per leader and board member with an address who did not stop it (the
    caller asks only when mail is on: `mail_is_on`)."""
    return [await _envelope(content, messages, partnership, member, now)
            for member in await mail_recipients(session, partnership.id)]


async def _envelope(content: Content, messages: SummaryMessages, partnership: Partnership,
                    member: Member, now: datetime) -> Envelope:
    lang, month = member.language, messages.summary.month
    leader = member.role in LEADER_ROLES
    subject = content.text("mail_subject", lang, partnership=partnership.name,
                           month=content.month_name(month, lang))
    reason = content.text("mail_reason_leader" if leader else "mail_reason_board", lang,
                          partnership=partnership.name)
    summary = await messages.replies(lang, short=not leader)
    return Envelope(MAIL_KIND, partnership.id, f"member:{member.id}", month, PLATFORM,
                    str(member.id), True, (Text(text=subject), *summary, Text(text=reason)),
                    now, now + MAIL_EXPIRES, member.id)


def how_to_stop(content: Content, lang: str, link: str, *, mail_only: bool = False) -> str:
    """The mail's last lines: how to stop it in chat, and with the link (only the link for
    someone who is in no chat)."""
    if mail_only:
        return str(content.text("mail_stop_link_only", lang, link=link))
    return f"{content.text('mail_stop', lang)}\n{content.text('mail_stop_link', lang, link=link)}"

"""Who gets the summary mail (one rule, `gets_summary_mail`), the address at send time,
stopping it, and members who have no chat account but only an address."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import BOARD, LEADER_ROLES
from bot.settings import Settings
from bot.store.models import Member, Partnership

# A member with no chat account: platform `email`, the address as their identity, never
# onboarded (so no check-in, reminder, nudge or pairing reaches them, and no response rate
# counts them: all of those take onboarded members only). docs/email.md says why.
MAIL_ONLY = "email"


def reads_summaries(member: Member) -> bool:
    """Who may read the partnership's summaries beyond the chat (the mail, the dashboard):
    project leaders, operators and board members."""
    return member.role in LEADER_ROLES or member.level == BOARD


def gets_summary_mail(member: Member) -> bool:
    """The one rule for the monthly mail: a reader of the summaries with an address who
    did not stop it."""
    return member.email is not None and member.mail_off_at is None \
        and reads_summaries(member)


def is_mail_only(member: Member) -> bool:
    return member.platform == MAIL_ONLY


def mail_is_on() -> bool:
    """Whether this installation sends mail at all (ACHTJE_SMTP_URL is set): without it
    nothing is queued, so no mail waits for a server that is not there."""
    return bool(Settings().smtp_url)


async def mail_recipients(session: AsyncSession, partnership_id: int) -> list[Member]:
    """Who gets the partnership's summary mail (`gets_summary_mail`), in id order. An
    address two members share (a board member in the chat and the same person imported
    without a chat account) gets one mail: the first leader's, else the first member's."""
    rows = await session.scalars(
        select(Member).where(Member.partnership_id == partnership_id,
                             Member.email.is_not(None)).order_by(Member.id))
    chosen: dict[str, Member] = {}
    for member in rows:
        if not gets_summary_mail(member):
            continue
        address = (member.email or "").lower()
        first = chosen.get(address)
        if first is None or (member.role in LEADER_ROLES and first.role not in LEADER_ROLES):
            chosen[address] = member
    return sorted(chosen.values(), key=lambda member: member.id)


async def readers_with_address(session: AsyncSession, address: str) -> list[Member]:
    """The members, in any partnership, with this address who may open the dashboard
    (whether or not they stopped the monthly mail): who a login link by mail is for."""
    rows = await session.scalars(
        select(Member).where(func.lower(Member.email) == address.strip().lower())
        .order_by(Member.id))
    return [member for member in rows if reads_summaries(member)]


@dataclass(frozen=True)
class MailRecipient:
    """What the e-mail platform needs at send time: the address as it is now."""

    member_id: int
    address: str | None
    name: str
    language: str
    partnership: str
    stopped: bool
    mail_only: bool  # no chat account: the mail cannot point to `mail uit` in chat


async def mail_recipient(session: AsyncSession, member_id: int) -> MailRecipient | None:
    """The member as they are now (an erased member is None; a removed address is None)."""
    found = (await session.execute(
        select(Member.email, Member.display_name, Member.language, Member.mail_off_at,
               Partnership.name, Member.platform)
        .join(Partnership, Partnership.id == Member.partnership_id)
        .where(Member.id == member_id))).one_or_none()
    if found is None:
        return None
    email, name, language, off, partnership, platform = found
    return MailRecipient(member_id, email, name, language, partnership, off is not None,
                         platform == MAIL_ONLY)


async def set_mail(session: AsyncSession, member_id: int, on: bool, now: datetime) -> bool:
    """Start or stop the summary mail for one member; whether anything changed."""
    statement = update(Member).where(Member.id == member_id)
    if on:
        statement = statement.where(Member.mail_off_at.is_not(None)).values(mail_off_at=None)
    else:
        statement = statement.where(Member.mail_off_at.is_(None)).values(mail_off_at=now)
    changed = await session.execute(statement.returning(Member.id))
    return bool(changed.all())

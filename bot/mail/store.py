"""The queries of the summary mail: who gets one, an address at send time, stopping."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import BOARD, LEADER
from bot.store.models import Member, Partnership


async def mail_recipients(session: AsyncSession, partnership_id: int) -> list[Member]:
    """The partnership's project leaders and board members who gave an address and did not
    stop the mail, in id order. Admins are operators, as for the summary in chat."""
    rows = await session.scalars(
        select(Member).where(
            Member.partnership_id == partnership_id, Member.email.is_not(None),
            Member.mail_off_at.is_(None),
            or_(Member.role == LEADER, Member.level == BOARD),
        ).order_by(Member.id))
    return list(rows)


@dataclass(frozen=True)
class MailRecipient:
    """What the e-mail platform needs at send time: the address as it is now."""

    member_id: int
    address: str | None
    name: str
    language: str
    partnership: str
    stopped: bool


async def mail_recipient(session: AsyncSession, member_id: int) -> MailRecipient | None:
    """The member as they are now (an erased member is None; a removed address is None)."""
    found = (await session.execute(
        select(Member.email, Member.display_name, Member.language, Member.mail_off_at,
               Partnership.name)
        .join(Partnership, Partnership.id == Member.partnership_id)
        .where(Member.id == member_id))).one_or_none()
    if found is None:
        return None
    email, name, language, off, partnership = found
    return MailRecipient(member_id, email, name, language, partnership, off is not None)


async def set_mail(session: AsyncSession, member_id: int, on: bool, now: datetime) -> bool:
    """Start or stop the summary mail for one member; whether anything changed."""
    statement = update(Member).where(Member.id == member_id)
    if on:
        statement = statement.where(Member.mail_off_at.is_not(None)).values(mail_off_at=None)
    else:
        statement = statement.where(Member.mail_off_at.is_(None)).values(mail_off_at=now)
    changed = await session.execute(statement.returning(Member.id))
    return bool(changed.all())

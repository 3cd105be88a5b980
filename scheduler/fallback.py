"""When a member turns out unreachable at send time: what reaches them another way.

The planner already invites people it knows it cannot reach privately in their platform's
channel; a private nudge that fails only when it is sent (the person blocked the bot or
never opened a private chat) gets the same invitation in the channel, as one more outbox
row. Its key (kind, partnership, recipient, local date) keeps it one message, however often
this runs.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.content import Content
from bot.nudges.planner import invitation_in_channel
from bot.outbox import Envelope, enqueue
from bot.store.schedule import OutboxMessage
from scheduler.outbox import Claimed
from scheduler.sender import WhenUnreachable

logger = logging.getLogger(__name__)


def channel_fallback(content: Content) -> WhenUnreachable:
    """The sender's `when_unreachable`: a failed private nudge goes to the channel."""

    async def invite_in_channel(session: AsyncSession, row: Claimed, now: datetime) -> None:
        if row.kind != "nudge" or not row.direct or row.member_id is None:
            return
        failed = await session.get(OutboxMessage, row.id)
        planned = await invitation_in_channel(session, content, row.member_id, now)
        if failed is None or planned is None:
            return
        envelope = Envelope(planned.kind, planned.partnership_id, planned.recipient,
                            failed.local_date, planned.platform, planned.target, False,
                            planned.replies, now, failed.expires_at, planned.member_id)
        if await enqueue(session, [envelope], now):
            logger.info("outbox %s: member %s cannot be reached privately; invited in %s:%s",
                        row.id, row.member_id, planned.platform, planned.target)

    return invite_in_channel

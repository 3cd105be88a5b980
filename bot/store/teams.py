"""What the Teams adapter keeps: how to reach a chat or a person later (a conversation
reference: the serviceUrl, the conversation id and the ids Teams gave the person and the
bot), stored when the app is installed or first spoken to, refreshed on every activity.

`key` is a chat reference (the conversation id) or a person's `TENANT:AADOBJECTID`; for a
person, `conversation_id` is their personal chat with the bot once known and `member_id`
their per-app id ("29:..."), with which a personal chat can be opened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.models import Base

PLATFORM = "teams"


class TeamsReference(Base):
    __tablename__ = "teams_reference"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    service_url: Mapped[str] = mapped_column(String(300))
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    conversation_id: Mapped[str | None] = mapped_column(String(300))
    member_id: Mapped[str | None] = mapped_column(String(200))
    bot_id: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime]


@dataclass(frozen=True)
class Reference:
    service_url: str
    tenant_id: str | None
    conversation_id: str | None
    member_id: str | None
    bot_id: str | None


async def remember(session: AsyncSession, key: str, ref: Reference, now: datetime) -> None:
    """Store or refresh a reference; a known personal chat is kept when `ref` has none."""
    row = await session.get(TeamsReference, key)
    if row is None:
        session.add(TeamsReference(key=key, service_url=ref.service_url,
                                   tenant_id=ref.tenant_id, conversation_id=ref.conversation_id,
                                   member_id=ref.member_id, bot_id=ref.bot_id, updated_at=now))
        return
    row.service_url = ref.service_url
    row.tenant_id = ref.tenant_id or row.tenant_id
    row.conversation_id = ref.conversation_id or row.conversation_id
    row.member_id = ref.member_id or row.member_id
    row.bot_id = ref.bot_id or row.bot_id
    row.updated_at = now


async def reference(session: AsyncSession, key: str) -> Reference | None:
    row = await session.scalar(select(TeamsReference).where(TeamsReference.key == key))
    if row is None:
        return None
    return Reference(row.service_url, row.tenant_id, row.conversation_id, row.member_id,
                     row.bot_id)


async def forget(session: AsyncSession, key: str) -> None:
    row = await session.get(TeamsReference, key)
    if row is not None:
        await session.delete(row)

"""What the Telegram adapter keeps: long button values behind short ids, and the queries
it needs for platform bookkeeping (a group that became a supergroup, a blocked bot)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import String, Text, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.models import Base, ChannelBinding

PLATFORM = "telegram"
CALLBACK_PREFIX = "~"


class TelegramCallback(Base):
    """A button value longer than Telegram's 64-byte callback_data, kept behind an id."""

    __tablename__ = "telegram_callback"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    value: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


async def callback_ref(session: AsyncSession, value: str, now: datetime) -> str:
    """A short, opaque callback_data for `value`; the same value always gets the same one."""
    digest = hashlib.sha256(value.encode()).hexdigest()
    insert = (postgresql.insert if session.get_bind().dialect.name == "postgresql"
              else sqlite.insert)
    await session.execute(
        insert(TelegramCallback)
        .values(digest=digest, value=value, created_at=now)
        .on_conflict_do_nothing(index_elements=["digest"])
    )
    found = await session.scalar(select(TelegramCallback.id)
                                 .where(TelegramCallback.digest == digest))
    return f"{CALLBACK_PREFIX}{found}"


async def callback_value(session: AsyncSession, ref: str) -> str | None:
    """The button value behind a short id, or None for an id we never gave out."""
    number = ref.removeprefix(CALLBACK_PREFIX)
    if not ref.startswith(CALLBACK_PREFIX) or not number.isdigit() or len(number) > 18:
        return None
    return await session.scalar(select(TelegramCallback.value)
                                .where(TelegramCallback.id == int(number)))


async def move_chat(session: AsyncSession, old: str, new: str) -> bool:
    """A group became a supergroup with a new id: its binding follows. False if nothing moved."""
    if await session.scalar(select(ChannelBinding.id).where(
        ChannelBinding.platform == PLATFORM, ChannelBinding.channel_ref == new
    )):
        return False
    moved = await session.execute(
        update(ChannelBinding)
        .where(ChannelBinding.platform == PLATFORM, ChannelBinding.channel_ref == old)
        .values(channel_ref=new)
        .returning(ChannelBinding.id)
    )
    return moved.first() is not None

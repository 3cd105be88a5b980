"""One-time codes that bind a group or channel to a partnership.

An operator makes a code with `achtje bind-code`; a project leader sends `/koppel CODE` in
the group. Only a hash of the code is stored, it expires, and it works once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.models import Base, ChannelBinding
from bot.store.repo import insert_for

# No 0/O or 1/I, so a code read aloud or copied by hand comes out right.
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10


class BindCode(Base):
    __tablename__ = "bind_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnership.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_platform: Mapped[str | None] = mapped_column(String(20))
    used_chat: Mapped[str | None] = mapped_column(String(100))


@dataclass(frozen=True)
class Redeemed:
    """What became of a code: "ok" (with the partnership), "unknown", "used" or "expired"."""

    status: str
    partnership_id: int | None = None


def normalise(code: str) -> str:
    """The code as stored: upper case, without the spaces and dashes people type."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def _hash(code: str) -> str:
    return hashlib.sha256(normalise(code).encode()).hexdigest()


async def new_code(
    session: AsyncSession, partnership_id: int, now: datetime, valid_for: timedelta
) -> str:
    """A fresh random code, shown once (as XXXXX-XXXXX) and stored as a hash."""
    code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    session.add(BindCode(partnership_id=partnership_id, code_hash=_hash(code), created_at=now,
                         expires_at=now + valid_for))
    await session.flush()
    return f"{code[:5]}-{code[5:]}"


async def redeem(
    session: AsyncSession, code: str, platform: str, chat: str, now: datetime
) -> Redeemed:
    """Use a code for `chat`; one UPDATE, so two groups racing for one code cannot both win."""
    digest = _hash(code)
    used = await session.execute(
        update(BindCode)
        .where(BindCode.code_hash == digest, BindCode.used_at.is_(None),
               BindCode.expires_at > now)
        .values(used_at=now, used_platform=platform, used_chat=chat[:100])
        .returning(BindCode.partnership_id)
    )
    partnership_id = used.scalar()
    if partnership_id is not None:
        return Redeemed("ok", partnership_id)
    found = await session.scalar(select(BindCode).where(BindCode.code_hash == digest))
    if found is None:
        return Redeemed("unknown")
    return Redeemed("used" if found.used_at is not None else "expired")


async def give_back(session: AsyncSession, code: str, platform: str, chat: str) -> None:
    """Undo `redeem` of a code for `chat` in this transaction, when the chat could not be
    bound after all: the code was not used, so it works again. Our UPDATE holds the row
    until commit, so nobody else can have redeemed it in between."""
    await session.execute(
        update(BindCode)
        .where(BindCode.code_hash == _hash(code), BindCode.used_platform == platform,
               BindCode.used_chat == chat[:100])
        .values(used_at=None, used_platform=None, used_chat=None)
    )


async def bind_chat(
    session: AsyncSession, partnership_id: int, platform: str, chat: str, now: datetime
) -> bool:
    """Bind a chat to a partnership; False when it belongs to one already. The unique
    constraint decides, so of two turns binding one chat at the same moment one loses
    cleanly (PostgreSQL makes the second wait for the first's commit)."""
    bound = await session.execute(
        insert_for(session, ChannelBinding)
        .values(partnership_id=partnership_id, platform=platform, channel_ref=chat[:100],
                created_at=now)
        .on_conflict_do_nothing()
        .returning(ChannelBinding.id)
    )
    return bound.first() is not None

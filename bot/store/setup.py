"""A setup wizard in progress: someone creating a partnership from an unbound group.

It is keyed by platform, chat and person, because that person belongs to no partnership
yet (so there is no member and no conversation row). It is deleted when the wizard ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import String, delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.domain import LEADER
from bot.store.models import Base, Member, Partnership, School


class SetupDraft(Base):
    __tablename__ = "setup_draft"

    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    chat_ref: Mapped[str] = mapped_column(String(100), primary_key=True)
    user_ref: Mapped[str] = mapped_column(String(100), primary_key=True)
    data: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]


async def draft(session: AsyncSession, platform: str, chat_ref: str,
                user_ref: str) -> SetupDraft | None:
    return await session.get(SetupDraft, (platform, chat_ref[:100], user_ref[:100]))


async def new_draft(session: AsyncSession, platform: str, chat_ref: str, user_ref: str,
                    now: datetime, replacing: SetupDraft | None) -> SetupDraft:
    """A draft at the first question (the name); the one it replaces goes first."""
    if replacing is not None:
        await session.delete(replacing)
        await session.flush()
    started = SetupDraft(platform=platform, chat_ref=chat_ref[:100], user_ref=user_ref[:100],
                         data={"step": "name", "schools": []}, updated_at=now)
    session.add(started)
    return started


async def create_partnership(session: AsyncSession, name: str, sector: str, region: str,
                             language: str, schools: Sequence[Sequence[str]],
                             now: datetime) -> Partnership:
    """A new partnership with its schools (name, type), flushed so it has its id."""
    partnership = Partnership(
        name=name, sector=sector, region=region, language=language, created_at=now,
        schools=[School(name=school, type=kind) for school, kind in schools])
    session.add(partnership)
    await session.flush()
    return partnership


async def drop_partnership(session: AsyncSession, partnership_id: int) -> None:
    """Undo a partnership just created (its schools go with it)."""
    await session.execute(delete(Partnership).where(Partnership.id == partnership_id))


def add_leader(session: AsyncSession, partnership_id: int, platform: str, user_ref: str,
               display_name: str, language: str, now: datetime) -> None:
    """The partnership's first project leader: the person who set it up."""
    session.add(Member(partnership_id=partnership_id, platform=platform,
                       user_ref=user_ref[:100], display_name=display_name, role=LEADER,
                       language=language, created_at=now))

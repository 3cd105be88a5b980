"""The dashboard's links and sessions (adapters/dashboard): only hashes of their tokens.

A link is what `dashboard` in chat hands out: a random token, valid a short while, taken
once. Taking it starts a session: another random token, kept by the browser in a cookie,
valid some hours. The database holds the SHA-256 of each token, never the token, so a
copy of the database opens nothing. Both rows name the member; erasing the member removes
them (ON DELETE CASCADE).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.models import Base, UtcDateTime

TOKEN_BYTES = 32


class DashboardLink(Base):
    """A one-time link to the dashboard; `used_at` is set when it is taken."""

    __tablename__ = "dashboard_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"),
                                           index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class DashboardSession(Base):
    """A browser's session, started by taking a link."""

    __tablename__ = "dashboard_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"),
                                           index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


async def create_link(session: AsyncSession, member_id: int, now: datetime,
                      valid: timedelta) -> str:
    """A new one-time link token for the member; only its hash is stored."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(DashboardLink(token_hash=token_hash(token), member_id=member_id,
                              created_at=now, expires_at=now + valid))
    await session.flush()
    return token


async def links_since(session: AsyncSession, member_ids: list[int], since: datetime) -> int:
    """How many links these members were given after `since` (the login-by-mail limit)."""
    found = await session.scalar(select(func.count(DashboardLink.id)).where(
        DashboardLink.member_id.in_(member_ids), DashboardLink.created_at > since))
    return int(found or 0)


async def take_link(session: AsyncSession, token: str, now: datetime) -> int | None:
    """Mark the link used and return its member; None when it is unknown, expired or was
    taken before. One statement, so two browsers racing for one link get it once."""
    statement = (update(DashboardLink)
                 .where(DashboardLink.token_hash == token_hash(token),
                        DashboardLink.used_at.is_(None), DashboardLink.expires_at > now)
                 .values(used_at=now)
                 .returning(DashboardLink.member_id))
    return (await session.execute(statement)).scalar_one_or_none()


async def peek_link(session: AsyncSession, token: str, now: datetime) -> int | None:
    """The member of a link that can still be taken, without taking it."""
    found = await session.scalar(select(DashboardLink.member_id).where(
        DashboardLink.token_hash == token_hash(token), DashboardLink.used_at.is_(None),
        DashboardLink.expires_at > now))
    return None if found is None else int(found)


async def start_session(session: AsyncSession, member_id: int, now: datetime,
                        valid: timedelta) -> str:
    """A new session token for the member; only its hash is stored."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(DashboardSession(token_hash=token_hash(token), member_id=member_id,
                                 created_at=now, expires_at=now + valid))
    await session.flush()
    return token


async def session_member(session: AsyncSession, token: str, now: datetime) -> int | None:
    """The member of a session that has not expired; None otherwise."""
    found = await session.scalar(
        select(DashboardSession.member_id).where(DashboardSession.token_hash == token_hash(token),
               DashboardSession.expires_at > now))
    return None if found is None else int(found)


async def end_session(session: AsyncSession, token: str) -> None:
    await session.execute(delete(DashboardSession).where(
        DashboardSession.token_hash == token_hash(token)))


async def forget_expired(session: AsyncSession, now: datetime) -> int:
    """Delete links and sessions that expired; how many rows went."""
    gone = 0
    for table in (DashboardLink, DashboardSession):
        result = await session.execute(delete(table).where(table.expires_at <= now))
        gone += int(getattr(result, "rowcount", 0) or 0)
    return gone

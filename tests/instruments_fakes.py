"""A team for the instrument transcripts: onboarded members of the demo partnership, each
with a private chat and a seat in the partnership's group chat; what the instruments post
in that chat by themselves (through the outbox); and what a drawn PNG must look like."""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from typing import Any

from matplotlib.image import imread
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.memory import MemoryChat
from bot.engine import Engine
from bot.messages import Reply, Text
from bot.store.models import Member, Partnership, School
from bot.store.schedule import OutboxMessage
from scheduler.sender import Sender
from tests.conftest import Clock

GROUP = "group-1"  # bound to the demo partnership by the `partnership` fixture


@dataclass
class Person:
    """One member: `dm` is their private chat with the bot, `group` the team's chat."""

    user: str
    dm: MemoryChat
    group: MemoryChat


async def add_people(
    engine: Engine, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock,
    *users: str, leader: str | None = None, language: str = "nl",
) -> dict[str, Person]:
    """Onboarded members (alternating schools); `leader` gets the project leader role."""
    async with sessions() as session, session.begin():
        schools = list(await session.scalars(
            select(School).where(School.partnership_id == partnership.id).order_by(School.id)))
        for index, user in enumerate(users):
            session.add(Member(
                partnership_id=partnership.id, platform="test", user_ref=user,
                display_name=user.capitalize(), school_id=schools[index % 2].id,
                level="teachers", role="leader" if user == leader else "member",
                language=language, onboarded_at=clock.now, created_at=clock.now,
            ))
    return {user: Person(user, MemoryChat(engine, user=user, chat=f"dm-{user}"),
                         MemoryChat(engine, user=user, chat=GROUP, direct=False))
            for user in users}


async def channel_posts(sessions: async_sessionmaker[Any], clock: Clock,
                        channel: MemoryChat) -> list[Reply]:
    """Deliver what the instruments queued for the team's chat, as the running service's
    sender would, into `channel`; returns what arrived there just now."""
    before = len(channel.sent)
    await Sender(sessions, {channel.platform: channel}, clock=clock).send_due()
    return channel.sent[before:]


async def queued_posts(sessions: async_sessionmaker[Any]) -> list[tuple[str, str, str]]:
    """Every post an instrument queued: (kind, recipient key, target chat)."""
    async with sessions() as session:
        rows = await session.execute(
            select(OutboxMessage.kind, OutboxMessage.recipient, OutboxMessage.target)
            .order_by(OutboxMessage.id))
        return [(kind, key, target) for kind, key, target in rows]


def assert_png(png: bytes) -> None:
    """A real PNG (it decodes) of a size that reads well on a phone."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert 600 <= width <= 2000 and 400 <= height <= 1500
    pixels = imread(io.BytesIO(png), format="png")
    assert pixels.shape[:2] == (height, width)
    assert len(png) < 500_000


def texts(replies: list[Reply]) -> list[str]:
    return [reply.text for reply in replies if isinstance(reply, Text)]


def said(content: Any, key: str, lang: str = "nl", **values: object) -> Text:
    return Text(text=content.text(key, lang, **values))


def as_private(reply: Text) -> Text:
    """What the engine makes of a reply to a group message that is not for everyone."""
    return Text(text=reply.text, private=True)

"""What the Telegram adapter keeps in the database about people and chats, each change in
a short transaction of its own: who can be written to, a group that became a supergroup,
and button values too long for a callback."""

from __future__ import annotations

import logging

from telegram import Bot, ChatMemberUpdated
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError

from adapters.telegram import render as rendering
from adapters.telegram.translate import PLATFORM
from bot.engine import Engine
from bot.messages import Incoming, Reply
from bot.profile import set_reachable
from bot.store import telegram as store

logger = logging.getLogger(__name__)

_IN_GROUP = {ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER}


async def reachable(engine: Engine, user: str, can_write: bool) -> None:
    """Record whether a person's private chat takes our messages (blocked or not)."""
    changed = await set_reachable(engine.sessions, PLATFORM, user, can_write, engine.clock())
    if changed:
        logger.info("telegram user %s is %s", user,
                    "reachable again" if can_write else "unreachable")


async def membership_changed(engine: Engine, change: ChatMemberUpdated) -> None:
    """The bot was blocked or unblocked in a private chat, or changed status in a group."""
    status = change.new_chat_member.status
    if change.chat.type != "private":
        logger.info("bot is now %s in telegram chat %s", status, change.chat.id)
        return
    if status == ChatMemberStatus.BANNED:
        await reachable(engine, str(change.from_user.id), False)
    elif status == ChatMemberStatus.MEMBER:
        await reachable(engine, str(change.from_user.id), True)


async def in_group(bot: Bot, incoming: Incoming) -> bool:
    """Whether someone who came in through a group's deep link is really in that group."""
    try:
        member = await bot.get_chat_member(int(incoming.chat), int(incoming.user))
    except TelegramError as exc:
        logger.info("cannot check membership of %s in %s: %s", incoming.user,
                    incoming.chat, exc)
        return False
    return member.status in _IN_GROUP or bool(getattr(member, "is_member", False))


async def moved(engine: Engine, old: int, new: int) -> None:
    """A group became a supergroup with a new id: its binding follows."""
    async with engine.sessions() as session, session.begin():
        done = await store.move_chat(session, str(old), str(new))
    if done:
        logger.info("telegram group %s became supergroup %s; binding moved", old, new)


async def callback_value(engine: Engine, ref: str) -> str:
    """The button value a stored callback reference stands for (else the reference)."""
    async with engine.sessions() as session:
        return await store.callback_value(session, ref) or ref


async def callback_data(engine: Engine, reply: Reply, private_chat: bool) -> dict[str, str]:
    """Each button value of a reply and what its button carries: the value itself when it
    fits in Telegram's 64 bytes, else a stored reference to it."""
    values = rendering.button_values(reply, private_chat)
    data = {v: v for v in values
            if rendering.fits_callback_data(v) and not v.startswith(store.CALLBACK_PREFIX)}
    if len(data) < len(values):
        async with engine.sessions() as session, session.begin():
            for value in values:
                if value not in data:
                    data[value] = await store.callback_ref(session, value, engine.clock())
    return data

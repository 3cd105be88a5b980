"""Binding a group to a partnership with a one-time code: `koppel CODE` in that group.

It runs before the engine looks up the member, because the person binding a fresh group
usually belongs to no partnership yet; the code is what says which partnership it is.
The answer is for the whole group, so it is not made private.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot import registry
from bot.content import Content
from bot.flows.turn import Turn
from bot.messages import Incoming, Invitation, Reply, Text
from bot.store import binding, repo
from bot.store.models import Partnership

logger = logging.getLogger(__name__)

NAMES = ("koppel", "link")
# What the group's "start privately" button does: onboarding for a newcomer, help otherwise.
START_ACTION = "cmd:start"


@registry.command(*NAMES, menu=True, order=10, chats="group")
async def command(turn: Turn, arg: str) -> list[Reply]:
    """`koppel` reached as a command after all (e.g. from a button): same as before lookup."""
    incoming = turn.incoming
    bound = None if incoming.direct else await repo.partnership_for_chat(
        turn.session, incoming.platform, incoming.chat)
    return await link(turn.session, turn.content, turn.now, incoming, arg, bound)


async def link(
    session: AsyncSession, content: Content, now: datetime, incoming: Incoming, arg: str,
    bound: Partnership | None,
) -> list[Reply]:
    """`bound`: the partnership the chat belongs to already, if any."""
    lang = _language(incoming)

    def say(key: str, **values: object) -> list[Reply]:
        return [Text(text=content.text(key, lang, **values))]

    if incoming.direct:
        return say("bind_in_group")
    code = binding.normalise(arg)
    if not code:
        return say("bind_how")
    if bound is not None:
        return say("bind_already", partnership=bound.name)
    redeemed = await binding.redeem(session, code, incoming.platform, incoming.chat, now)
    if redeemed.partnership_id is None:
        logger.info("bind code refused (%s) in %s chat %s", redeemed.status,
                    incoming.platform, incoming.chat)
        return say(f"bind_{redeemed.status}")
    partnership = await session.get(Partnership, redeemed.partnership_id)
    assert partnership is not None  # the code's foreign key cascades
    if not await binding.bind_chat(session, partnership.id, incoming.platform, incoming.chat,
                                   now):
        # Bound by someone else's `koppel` or `setup` a moment ago: this code did nothing.
        await binding.give_back(session, code, incoming.platform, incoming.chat)
        bound = await repo.partnership_for_chat(session, incoming.platform, incoming.chat)
        return say("bind_already", partnership=bound.name if bound else "")
    logger.info("bound %s chat %s to partnership %s", incoming.platform, incoming.chat,
                partnership.id)
    lang = _language(incoming, partnership.language)
    return [Invitation(text=content.text("bind_done", lang, partnership=partnership.name),
                       button=content.text("bind_start_button", lang), action=START_ACTION)]


def _language(incoming: Incoming, fallback: str = "nl") -> str:
    locale = (incoming.locale or "").lower()
    return "en" if locale.startswith("en") else "nl" if locale.startswith("nl") else fallback

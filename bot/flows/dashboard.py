"""`dashboard` in chat: a personal one-time link to the dashboard of the school year
(adapters/dashboard), for project leaders and board members only.

The link is valid `LINK_MINUTES` and can be taken once; taking it starts a browser
session (bot/store/dashboard.py keeps only hashes of both tokens). Without
`ACHTJE_PUBLIC_URL` there is no address to give: the person is told kindly, the operator
finds a line in the log. In a group the engine makes the answer private, so the link is
never posted where others read it.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from bot import registry
from bot.flows.roles import leaders_only
from bot.flows.turn import Turn
from bot.mail.store import reads_summaries
from bot.messages import Reply
from bot.store.dashboard import create_link
from bot.store.models import Member

logger = logging.getLogger(__name__)

NAMES = ("dashboard",)
LINK_MINUTES = 15
LOGIN_PATH = "/dashboard/login/"


def may_open(member: Member | None) -> bool:
    """Who may see the dashboard: the readers of the summaries (bot.mail.store), the same
    people who get the monthly mail when they gave an address."""
    return member is not None and reads_summaries(member)


def login_url(public_url: str, token: str) -> str:
    return public_url.rstrip("/") + LOGIN_PATH + token


@registry.command(*NAMES, leader_words=("",), help=True, order=5, board=True)
async def command(turn: Turn, arg: str) -> list[Reply]:
    if not may_open(turn.member):
        return leaders_only(turn)
    public_url = turn.public_url
    if not public_url:
        logger.warning("dashboard asked for by member %s, but ACHTJE_PUBLIC_URL is not set",
                       turn.member.id)
        return [turn.say("dashboard_no_url")]
    token = await create_link(turn.session, turn.member.id, turn.now,
                              timedelta(minutes=LINK_MINUTES))
    return [turn.say("dashboard_link", url=login_url(public_url, token),
                     minutes=LINK_MINUTES)]

"""Who may do what: the one place that reads a member's role, and the polite refusal.

Members answer and use the instruments; project leaders ("leader") also start and close
sessions, edit the plan, see who takes part and remove members, and get the summaries;
operators ("admin") do everything, mostly through the `achtje` command. What only leaders
may type is declared with each command (`leaders=True`, `leader_words`, in `bot.registry`).
"""

from __future__ import annotations

from bot.domain import BOARD, LEADER_ROLES
from bot.flows.turn import Turn
from bot.messages import Reply
from bot.store.models import Member


def is_leader(member: Member) -> bool:
    """Project leaders and operators."""
    return member.role in LEADER_ROLES


def is_board(member: Member) -> bool:
    """A member of a school's board (bestuur): they get the summary by mail and the
    dashboard, like project leaders, but lead nothing in chat."""
    return member.level == BOARD


def leaders_only(turn: Turn) -> list[Reply]:
    """The polite refusal for a member who asks for what only a project leader may do."""
    return [turn.say("leaders_only")]

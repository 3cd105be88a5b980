"""Who may do what: the one place that reads a member's role and names what only project
leaders may do in chat.

Members answer and use the instruments; project leaders ("leader") also start and close
sessions, edit the plan, see who takes part and remove members, and get the summaries;
operators ("admin") do everything, mostly through the `achtje` command.
"""

from __future__ import annotations

from bot.domain import LEADER_ROLES
from bot.flows.turn import Turn
from bot.messages import Reply
from bot.store.models import Member

# Commands only project leaders may use, one name each: the engine refuses a member before
# the command runs, under every alias of it. A name that is not (yet) a command is ignored,
# so a feature's command is guarded the moment it is registered in `bot.engine.COMMANDS`.
LEADER_COMMANDS = frozenset({
    "leden",  # who takes part; remove a member; invite
    "samenvatting",  # the monthly summary on demand
    "rooster",  # the partnership's schedules
})
# Commands open to everyone with parts only leaders may use, by the word typed after the
# command ("" is the command alone). The command refuses a member itself (`matrix` still
# shows a member the plan); they are named here so tests/test_roles_matrix.py tries each.
LEADER_SUBCOMMANDS: dict[str, tuple[str, ...]] = {
    "reflectie": ("start", "sluit", "stand"),
    "matrix": ("", "2"),
}


def is_leader(member: Member) -> bool:
    """Project leaders and operators."""
    return member.role in LEADER_ROLES


def leaders_only(turn: Turn) -> list[Reply]:
    """The polite refusal for a member who asks for what only a project leader may do."""
    return [turn.say("leaders_only")]

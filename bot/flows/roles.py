"""Who may do what: the one place that reads a member's role.

Members answer and use the instruments; project leaders ("leader") also start and close
sessions, edit the plan and get the summaries; operators ("admin") do everything, mostly
through the `achtje` command.
"""

from __future__ import annotations

from bot.store.models import Member

MEMBER, LEADER, ADMIN = "member", "leader", "admin"
ROLES = (MEMBER, LEADER, ADMIN)
LEADER_ROLES = frozenset({LEADER, ADMIN})


def is_leader(member: Member) -> bool:
    """Project leaders and operators."""
    return member.role in LEADER_ROLES

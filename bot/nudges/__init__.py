"""Informal-contact nudges: pair people across schools, suggest something small, ask after.

The pitfall "meeting only at formal moments" is countered by organising informal contact.
This package decides; it never sends. The entry points for the scheduler:

- `plan_nudge_round(session, content, partnership, now)`: pair the partnership's members,
  store the round and its groups in the caller's transaction, return `PlannedMessage`s
  (a private message per person, one short message per bound channel).
- `plan_followups(session, content, now, partnership_id=None)`: the "did you meet?"
  questions a week after a round and the one reminder after "planned", marked as planned.
- `nudge_stats(session, partnership_id, month)`: the month's numbers for the summary.

The pairing itself is pure (`pairing.pair_members`); the koffie command and the follow-up
answers are declared with their handlers (`bot.registry`).
"""

from bot.nudges.followup_plan import plan_followups
from bot.nudges.planner import PlannedMessage, compose_round, plan_nudge_round
from bot.nudges.stats import NudgeStats, nudge_stats

__all__ = [
    "NudgeStats",
    "PlannedMessage",
    "compose_round",
    "nudge_stats",
    "plan_followups",
    "plan_nudge_round",
]

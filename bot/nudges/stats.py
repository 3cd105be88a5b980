"""A month of nudges in numbers, for the monthly summary.

A group counts for the month its round was planned in (the partnership's local calendar).
A group "met" when any of its members said so, "planned" when nobody said met but someone
said planned; the share of groups that met or planned is taken over the groups with at
least one answer, and `groups_answered` says how many that is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.months import month_bounds
from bot.store.models import Partnership
from bot.store.nudges import NudgeAnswer, NudgeGroup, NudgeGroupMember, NudgeRound


@dataclass(frozen=True)
class NudgeStats:
    partnership_id: int
    month: date
    rounds: int
    people_paired: int  # different people in a group this month
    groups: int
    groups_answered: int
    groups_met: int
    groups_planned: int  # planned, and nobody in the group said they met
    cross_school_groups: int
    repeat_pairs: int  # pairs in this month's groups that had been paired before
    people_met: int  # different people in a group that met
    people_met_cross_school: int  # of them, in a group across schools

    @property
    def met_or_planned_share(self) -> float | None:
        if not self.groups_answered:
            return None
        return (self.groups_met + self.groups_planned) / self.groups_answered

    @property
    def cross_school_share(self) -> float | None:
        return self.cross_school_groups / self.groups if self.groups else None


async def nudge_stats(session: AsyncSession, partnership_id: int, month: date) -> NudgeStats:
    """The numbers of the local calendar month that contains `month`."""
    partnership = await session.get(Partnership, partnership_id)
    if partnership is None:
        raise LookupError(f"no partnership {partnership_id}")
    start, after = month_bounds(month, partnership.timezone)
    in_month = (NudgeRound.partnership_id == partnership_id, NudgeRound.planned_at >= start,
                NudgeRound.planned_at < after)
    rounds = await session.scalar(select(func.count(NudgeRound.id)).where(*in_month)) or 0
    groups = {
        group_id: (cross, repeats)
        for group_id, cross, repeats in await session.execute(
            select(NudgeGroup.id, NudgeGroup.cross_school, NudgeGroup.repeat_pairs)
            .join(NudgeRound, NudgeRound.id == NudgeGroup.round_id).where(*in_month))
    }
    members: dict[int, set[int]] = {group_id: set() for group_id in groups}
    answers: dict[int, set[str]] = {}
    if groups:  # no pairs this month: nothing more to ask
        for group_id, member_id in await session.execute(
            select(NudgeGroupMember.group_id, NudgeGroupMember.member_id)
            .where(NudgeGroupMember.group_id.in_(groups))
        ):
            members[group_id].add(member_id)
        for group_id, answer in await session.execute(
            select(NudgeAnswer.group_id, NudgeAnswer.answer)
            .where(NudgeAnswer.group_id.in_(groups))
        ):
            answers.setdefault(group_id, set()).add(answer)
    return month_numbers(partnership_id, month, rounds, groups, members, answers)


def month_numbers(partnership_id: int, month: date, rounds: int,
                  groups: dict[int, tuple[bool, int]], members: dict[int, set[int]],
                  answers: dict[int, set[str]]) -> NudgeStats:
    """The numbers from a month's rows: its rounds, its groups (id -> across schools, repeat
    pairs), who was in each group and what each group answered (`bot.summary.batch` reads
    those rows for every partnership at once)."""
    met = {g for g, said in answers.items() if "met" in said}
    planned = {g for g, said in answers.items() if "planned" in said} - met
    people_met = set().union(*(members[g] for g in met))
    return NudgeStats(
        partnership_id=partnership_id,
        month=date(month.year, month.month, 1),
        rounds=rounds,
        people_paired=len(set().union(*members.values())),
        groups=len(groups),
        groups_answered=len(answers),
        groups_met=len(met),
        groups_planned=len(planned),
        cross_school_groups=sum(cross for cross, _ in groups.values()),
        repeat_pairs=sum(repeats for _, repeats in groups.values()),
        people_met=len(people_met),
        people_met_cross_school=len(set().union(*(members[g] for g in met if groups[g][0]))),
    )

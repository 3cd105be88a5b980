"""Hand-made partnership data for the summary tests, written straight through the store.

`Partners` adds members on a side (vmbo/mbo) and level, rounds on given days, and answers,
so a test states exactly who scored what and can compute the expected numbers by hand.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import count
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.nudges.stats import NudgeStats
from bot.store import db, repo
from bot.store.models import Answer, CheckInRound, Member, Partnership, School
from tests.conftest import without_settings

ACHTJE = Path(sys.executable).with_name("achtje")
Score = int | str | None  # 1-5, "dk" for don't know, "skip" for skipped, None for no answer
_users = count(1)
# Tuesdays in three months in a row, for rounds.
SEP, OCT, NOV = date(2026, 9, 8), date(2026, 10, 6), date(2026, 11, 3)


def nudge_numbers(rounds: int, paired: int, met: int, met_cross: int) -> NudgeStats:
    """A month of nudges as the nudge module counts it; only these numbers reach a summary."""
    return NudgeStats(partnership_id=1, month=date(2026, 11, 1), rounds=rounds,
                      people_paired=paired, groups=paired // 2, groups_answered=paired // 2,
                      groups_met=met // 2, groups_planned=0, cross_school_groups=paired // 2,
                      repeat_pairs=0, people_met=met, people_met_cross_school=met_cross)


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's header; fails when `data` is no PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


@dataclass
class Partners:
    """One partnership with a vmbo school and an mbo college, filled in by a test."""

    sessions: async_sessionmaker[Any]
    partnership: Partnership
    schools: dict[str, int] = field(default_factory=dict)
    rounds: int = 0

    @classmethod
    async def create(cls, sessions: async_sessionmaker[Any], name: str = "Leerlab Zuid"
                     ) -> Partners:
        async with sessions() as session, session.begin():
            partnership = Partnership(name=name, created_at=datetime(2026, 1, 1, tzinfo=UTC),
                                      schools=[School(name="Vmbo Noorderlicht", type="vmbo"),
                                               School(name="Mbo Vakcollege", type="mbo")])
            session.add(partnership)
            await session.flush()
            schools = {s.type: s.id for s in partnership.schools}
        return cls(sessions, partnership, schools)

    async def school(self, key: str, name: str, kind: str) -> int:
        """Another school of type `kind`; `members(key, ...)` puts people in it. Its id."""
        async with self.sessions() as session, session.begin():
            school = School(partnership_id=self.partnership.id, name=name, type=kind)
            session.add(school)
            await session.flush()
            self.schools[key] = school.id
            return school.id

    async def members(self, side: str | None, level: str | None, number: int,
                      onboarded: datetime | None = datetime(2026, 1, 1, tzinfo=UTC),
                      ) -> list[int]:
        """`number` members on one side and level, onboarded at that moment; their ids."""
        ids = []
        async with self.sessions() as session, session.begin():
            for _ in range(number):
                user = next(_users)
                member = Member(
                    partnership_id=self.partnership.id, platform="test", user_ref=f"u{user}",
                    display_name=f"Persoon{user}", level=level,
                    school_id=self.schools[side] if side else None,
                    onboarded_at=onboarded,
                    created_at=datetime(2026, 1, 1, tzinfo=UTC),
                )
                session.add(member)
                await session.flush()
                ids.append(member.id)
        return ids

    async def round(self, day: date, statements: list[str]) -> int:
        """A round opening at 10:00 UTC on `day`; its id."""
        self.rounds += 1
        opens = datetime.combine(day, time(10), UTC)
        async with self.sessions() as session, session.begin():
            round_ = CheckInRound(partnership_id=self.partnership.id, number=self.rounds,
                                  opens_at=opens, closes_at=opens + timedelta(days=7),
                                  statement_ids=statements)
            session.add(round_)
            await session.flush()
            return round_.id

    async def answer(self, round_id: int, statement: str, members: list[int],
                     scores: list[Score], comments: list[str | None] | None = None,
                     answered_at: datetime = datetime(2026, 1, 1, tzinfo=UTC)) -> None:
        """Member n gives scores[n] (and comments[n]) on one statement, at `answered_at`, in
        the group (school type and level) the member is in now, as the check-in stores it."""
        async with self.sessions() as session, session.begin():
            for n, (member, score) in enumerate(zip(members, scores, strict=True)):
                if score is None:
                    continue
                status = {"dk": "dont_know", "skip": "skipped"}.get(str(score), "scored")
                side, level, school_id = await repo.answer_group(session, member)
                session.add(Answer(
                    round_id=round_id, member_id=member, statement_id=statement, status=status,
                    score=score if isinstance(score, int) else None,
                    comment=comments[n] if comments else None,
                    answered_at=answered_at, side=side, level=level, school_id=school_id,
                ))


# The command line: `achtje` in a subprocess on a SQLite file in a test's folder.


def achtje(folder: Path, *runs: tuple[list[str], dict[str, str]]) -> list[tuple[int, bytes, str]]:
    """Run `achtje ARGS` once per (args, extra environment), side by side (they only read),
    on the database `folder`/a.db; (exit code, standard output, standard error) each."""
    base = without_settings()
    base["ACHTJE_DATABASE_URL"] = f"sqlite+aiosqlite:///{folder / 'a.db'}"
    started = [subprocess.Popen([str(ACHTJE), *args], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=folder,
                                env={**base, **extra})
               for args, extra in runs]
    results = []
    for process in started:
        stdout, stderr = process.communicate(timeout=60)
        results.append((process.returncode, stdout, stderr.decode()))
    return results


async def fill(folder: Path, name: str = "Leerlab Oost", open_answer: str = "Meer tijd") -> int:
    """Three vmbo teachers who scored shared ambition in September (2, 3, 3) and October
    (4, 4, 3) in a new database `folder`/a.db; the partnership id. (`achtje summary` runs
    on the real clock and gives only months that are over: October is, from November 2026.)
    """
    engine, sessions = await db.connect(f"sqlite+aiosqlite:///{folder / 'a.db'}")
    try:
        partners = await Partners.create(sessions, name)
        people = await partners.members("vmbo", "teachers", 3)
        for day, scores in ((SEP, [2, 3, 3]), (OCT, [4, 4, 3])):
            round_id = await partners.round(day, ["ambition_1", "interests_1"])
            await partners.answer(round_id, "ambition_1", people, scores,
                                  [open_answer, None, None])
        return partners.partnership.id
    finally:
        await engine.dispose()

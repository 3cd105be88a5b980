"""Hand-made partnership data for the summary tests, written straight through the store.

`Partners` adds members on a side (vmbo/mbo) and level, rounds on given days, and answers,
so a test states exactly who scored what and can compute the expected numbers by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import count
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.store.models import Answer, CheckInRound, Member, Partnership, School

Score = int | str | None  # 1-5, "dk" for don't know, "skip" for skipped, None for no answer
_users = count(1)
# Tuesdays in three months in a row, for rounds.
SEP, OCT, NOV = date(2026, 9, 8), date(2026, 10, 6), date(2026, 11, 3)


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
                     scores: list[Score], comments: list[str | None] | None = None) -> None:
        """Member n gives scores[n] (and comments[n]) on one statement."""
        async with self.sessions() as session, session.begin():
            for n, (member, score) in enumerate(zip(members, scores, strict=True)):
                if score is None:
                    continue
                status = {"dk": "dont_know", "skip": "skipped"}.get(str(score), "scored")
                session.add(Answer(
                    round_id=round_id, member_id=member, statement_id=statement, status=status,
                    score=score if isinstance(score, int) else None,
                    comment=comments[n] if comments else None,
                    answered_at=datetime(2026, 1, 1, tzinfo=UTC),
                ))

"""A summary groups each answer by who gave it at the time: the school type and level stored
with the answer, never the member's row as it is now. So an operator who moves a teacher to
management, or to another school, with `achtje member import` leaves the groups of answers
given before as they were; answers given afterwards count in the new group."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.memory import MemoryChat
from bot.content import Content
from bot.engine import Engine
from bot.months import month_bounds
from bot.store import db
from bot.store.models import Answer, CheckInRound, Member, Partnership, School
from bot.summary import compute_summary, queries
from tests.conftest import Clock, onboard, without_settings

ACHTJE = Path(sys.executable).with_name("achtje")
Sessions = async_sessionmaker[Any]
Groups = dict[tuple[str | None, str | None], tuple[int, float]]
OCTOBER, NOVEMBER = date(2026, 10, 1), date(2026, 11, 1)
VMBO, MBO = "Vmbo De Brug", "Mbo College Kompas"
LEVEL_LABELS = {"teachers": "Docenten", "management": "Management en projectleiding"}


def member_import(database_url: str, folder: Path, partnership: int,
                  *rows: tuple[str, str, str]) -> None:
    """`achtje member import` of (user, school, level) rows, as an operator runs it."""
    csv = folder / "moves.csv"
    csv.write_text("partnership,platform,user,name,school,level,role,language\n" + "".join(
        f"{partnership},test,{user},{user},{school},{level},member,nl\n"
        for user, school, level in rows), encoding="utf-8")
    env = without_settings()
    done = subprocess.run([str(ACHTJE), "member", "import", str(csv)], capture_output=True,
                          text=True, cwd=folder, env={**env, "ACHTJE_DATABASE_URL": database_url},
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert f"imported {len(rows)} members" in done.stdout


async def join(engine: Engine, user: str, school: str, level: str) -> MemoryChat:
    chat = MemoryChat(engine, user=user, chat=f"dm-{user}")
    await onboard(chat, school, LEVEL_LABELS[level])
    return chat


async def check_in(chat: MemoryChat, score: int) -> None:
    """Answer every statement of the open round with `score` (3-5: no follow-up)."""
    await chat.say("checkin")
    for _ in range(6):  # a round asks six statements
        await chat.say(str(score))
    assert chat.last_text().startswith("Dank je wel, je check-in is klaar!"), chat.transcript()


async def groups(sessions: Sessions, content: Content, partnership: Partnership,
                 month: date, topic: str = "ambition") -> Groups:
    """(side, level) -> (respondents, sum of their means) for one topic in one month."""
    topic_of = {s.id: content.topic_of(s.id) for s in content.all_statements()}
    async with sessions() as session:
        start, after = month_bounds(month, partnership.timezone)
        rounds = await queries.counted_rounds(session, partnership.id, start, after)
        [scores] = await queries.class_scores(session, [[c.round.id for c in rounds]],
                                              topic_of)
    return {(row.side, row.level): (row.respondents, row.mean_sum)
            for row in scores if row.topic == topic}


async def test_moving_a_member_leaves_earlier_answers_in_their_group(
    engine: Engine, sessions: Sessions, content: Content, clock: Clock,
    partnership: Partnership, database_url: str, tmp_path: Path,
) -> None:
    clock.now = datetime(2026, 10, 6, 13, tzinfo=UTC)  # a round opens, closes 13 October
    teachers = [await join(engine, f"t{n}", VMBO, "teachers") for n in range(3)]
    managers = [await join(engine, f"m{n}", VMBO, "management") for n in range(3)]
    for chat in teachers:
        await check_in(chat, 5)
    for chat in managers:
        await check_in(chat, 3)
    october = {("vmbo", "teachers"): (3, 15.0), ("vmbo", "management"): (3, 9.0)}
    assert await groups(sessions, content, partnership, OCTOBER) == october
    async with sessions() as session:
        before = await compute_summary(session, content, partnership, OCTOBER)
    assert [(g.group, g.respondents, g.mean) for g in before.conditions[0].levels] == [
        ("management", 3, 3.0), ("teachers", 3, 5.0)]

    # The operator moves t0 to management and t1 to the mbo college.
    member_import(database_url, tmp_path, partnership.id,
                  ("t0", VMBO, "management"), ("t1", MBO, "teachers"))
    async with sessions() as session:
        moved = {m.user_ref: (m.school_id, m.level)
                 for m in await session.scalars(select(Member).where(
                     Member.user_ref.in_(["t0", "t1"])))}
    schools = {s.name: s.id for s in partnership.schools}
    assert moved == {"t0": (schools[VMBO], "management"), "t1": (schools[MBO], "teachers")}

    assert await groups(sessions, content, partnership, OCTOBER) == october
    async with sessions() as session:
        assert await compute_summary(session, content, partnership, OCTOBER) == before

    clock.now = datetime(2026, 11, 3, 13, tzinfo=UTC)  # round 2: organisation, process, ...
    for chat in (*teachers, *managers):
        await check_in(chat, 4)
    assert await groups(sessions, content, partnership, NOVEMBER, "organisation") == {
        ("vmbo", "teachers"): (1, 4.0), ("mbo", "teachers"): (1, 4.0),
        ("vmbo", "management"): (4, 16.0)}
    assert await groups(sessions, content, partnership, OCTOBER) == october


async def test_a_changed_answer_takes_the_group_anew_and_a_person_stays_one_class(
    engine: Engine, sessions: Sessions, content: Content, clock: Clock,
    partnership: Partnership, database_url: str, tmp_path: Path,
) -> None:
    """Moved while the round is open, a member who changes a score gives that answer anew,
    as who they are now; that month, all their answers count in the group of their last
    one, so they are one respondent, never one in each group."""
    clock.now = datetime(2026, 10, 6, 13, tzinfo=UTC)
    anna = await join(engine, "anna", VMBO, "teachers")
    await check_in(anna, 4)
    member_import(database_url, tmp_path, partnership.id, ("anna", VMBO, "management"))
    clock.advance(days=1)
    await anna.say("checkin")  # all answered: it offers to change one
    await anna.press_value(_change_button(anna))
    await anna.say("2")
    await anna.say("overslaan")  # no follow-up text
    async with sessions() as session:
        rows = list(await session.execute(
            select(Answer.statement_id, Answer.score, Answer.level).order_by(Answer.id)))
    assert [(score, level) for _, score, level in rows] == [
        (2, "management"), *[(4, "teachers")] * 5]
    for topic in {content.topic_of(statement) for statement, _, _ in rows}:
        assert sum(n for n, _ in (await groups(sessions, content, partnership, OCTOBER,
                                               topic)).values()) == 1
    assert set(await groups(sessions, content, partnership, OCTOBER,
                            content.topic_of(rows[1][0]))) == {("vmbo", "management")}


def _change_button(chat: MemoryChat) -> str:
    """The value of the first "change this answer" button the chat was offered."""
    for reply in reversed(chat.sent):
        for option in getattr(reply, "options", ()):
            if option.value.startswith("change:"):
                return str(option.value)
    raise LookupError(chat.transcript())


async def test_the_migration_gives_old_answers_the_members_group_of_today(
    database_url: str,
) -> None:
    """Before 0011 nothing recorded who answered as what: old rows get the member's school
    type and level of the moment of the upgrade, the best that can be known."""
    engine = db.create_engine(database_url)
    await db.upgrade(engine, "0010_schedule_chat")
    now = datetime(2026, 10, 6, 13, tzinfo=UTC)
    async with engine.begin() as connection:
        await connection.execute(text(  # the columns of 0010, not of today's model
            "INSERT INTO partnership (id, name, sector, region, timezone, language, created_at)"
            " VALUES (1, 'Oud', '', 'midden', 'Europe/Amsterdam', 'nl', :now)"), {"now": now})
        await connection.execute(insert(School.__table__).values(
            id=1, partnership_id=1, name="Kompas", type="mbo"))
        await connection.execute(insert(Member.__table__), [
            {"id": n, "partnership_id": 1, "platform": "test", "user_ref": f"u{n}",
             "display_name": "", "school_id": school, "level": level, "role": "member",
             "language": "nl", "created_at": now}
            for n, school, level in ((1, 1, "board"), (2, None, None))])
        await connection.execute(insert(CheckInRound.__table__).values(
            id=1, partnership_id=1, number=1, opens_at=now, closes_at=now,
            statement_ids=["ambition_1"]))
        await connection.execute(text(
            "INSERT INTO answer (round_id, member_id, statement_id, status, score, answered_at)"
            " VALUES (1, 1, 'ambition_1', 'scored', 4, :now), "
            "(1, 2, 'ambition_1', 'scored', 2, :now)"), {"now": now})
    await db.upgrade(engine, "0011_answer_groups")
    async with engine.connect() as connection:
        rows = (await connection.execute(text(
            "SELECT member_id, side, level FROM answer ORDER BY member_id"))).all()
    await engine.dispose()
    assert [tuple(row) for row in rows] == [(1, "mbo", "board"), (2, None, None)]

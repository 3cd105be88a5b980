"""The impact matrix with several goals, each with its own rows per step: added, changed
and removed by anyone in the team, read as a short table per goal, printed as Markdown by
`achtje plan`; an old one-line-per-step plan becomes the first goal on upgrade."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic import command
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import MetaData, Table, select
from sqlalchemy.ext.asyncio import async_sessionmaker
from typer.testing import CliRunner

from bot.cli import app
from bot.content import Content
from bot.engine import Engine
from bot.flows.instruments.matrix import MAX_STEP_TEXT
from bot.flows.instruments.matrix_table import row_steps, shorten
from bot.messages import Choice, FreeText, Text
from bot.store import db
from bot.store.matrix import MatrixEntry, MatrixGoal
from bot.store.models import Member, Partnership
from tests.conftest import Clock
from tests.instruments_fakes import Person, add_people, said

GOAL_1 = "Iedere derdejaars loopt twee dagen mee op het mbo"
ROWS_1 = {
    "impact": "Minder uitval in het eerste mbo-jaar Zorg en Welzijn",
    "activities": "Start een werkgroep meeloopdagen met vmbo en mbo",  # starts with a command
    "contributors": "Twee docenten per school en de decaan",
    # resources is skipped
    "progress": "We vragen leerlingen na elke meeloopdag wat ze leerden",
    "next_level": "Een gezamenlijk keuzedeel",
}
GOAL_2 = "Docenten geven elkaar gastlessen"


@pytest.fixture
async def team(engine: Engine, sessions: async_sessionmaker[Any], partnership: Partnership,
               clock: Clock) -> dict[str, Person]:
    return await add_people(engine, sessions, partnership, clock, "lea", "anna", "bram",
                            leader="lea")


async def stored(sessions: async_sessionmaker[Any]) -> list[tuple[str, str, str]]:
    """(goal title, step, text) of every row, in order."""
    async with sessions() as session:
        rows = await session.execute(
            select(MatrixGoal.title, MatrixEntry.step_id, MatrixEntry.text)
            .join(MatrixGoal, MatrixGoal.id == MatrixEntry.goal_id).order_by(MatrixEntry.id))
        return [(title, step, text) for title, step, text in rows]


async def print_plan(database_url: str, *args: str) -> tuple[int, str]:
    """`achtje plan ...` through the CLI, on the test database, off the event loop."""
    result = await asyncio.to_thread(
        CliRunner().invoke, app, ["plan", *args], env={"ACHTJE_DATABASE_URL": database_url})
    return result.exit_code, result.output


async def first_goal(person: Person, content: Content) -> None:
    """A member (not a leader) starts the matrix and walks the first goal's steps."""
    dm = person.dm
    intro, prompt = await dm.say("matrix")
    assert intro == said(content, "matrix_intro")
    assert isinstance(prompt, FreeText) and prompt.prompt.startswith("Nieuw doel")
    added, step = await dm.say(GOAL_1)
    assert added == said(content, "matrix_goal_added", number=1)
    for number, wanted in enumerate(row_steps(content), start=1):
        assert isinstance(step, FreeText)
        assert step.prompt.startswith(f"Doel 1 · stap {number}/6 · {wanted.name.nl}")
        assert wanted.hint.nl in step.prompt
        replies = (await dm.say(ROWS_1[wanted.id]) if wanted.id in ROWS_1
                   else await dm.press("Sla deze stap over"))
        step = replies[-1] if len(replies) == 1 else replies[0]
    assert replies[0] == said(content, "matrix_done", name="De volgende stap")


async def test_the_team_builds_a_matrix_of_two_goals_and_reads_it_as_tables(
    team: dict[str, Person], sessions: async_sessionmaker[Any], content: Content, clock: Clock,
    partnership: Partnership, database_url: str,
) -> None:
    await first_goal(team["anna"], content)
    table = team["anna"].dm.sent[-2]
    assert isinstance(table, Text) and table.text.splitlines() == [
        f"Doel 1 · {GOAL_1}",
        "Impact:", f"  • {ROWS_1['impact']}",
        "Activiteiten:", f"  • {ROWS_1['activities']}",
        "Wie doet mee:", f"  • {ROWS_1['contributors']}",
        "Wat het vraagt: nog niet ingevuld",
        "Voortgang:", f"  • {ROWS_1['progress']}",
        "De volgende stap:", f"  • {ROWS_1['next_level']}"]

    # Bram, another member, adds a second activity to goal 1 and a second goal.
    bram = team["bram"].dm
    clock.advance(days=40)
    replies = await bram.say("matrix 1")
    assert isinstance(replies[-1], Choice) and replies[-1].options[1].label == "+ Activiteiten"
    [ask] = await bram.press("+ Activiteiten")
    assert isinstance(ask, FreeText) and ask.prompt.startswith("Doel 1 · stap 2/6")
    added, shown, _menu = await bram.say("Gastlessen door mbo-docenten in klas 3")
    assert added == said(content, "matrix_added", name="Activiteiten")
    assert isinstance(shown, Text)
    assert "  • Gastlessen door mbo-docenten in klas 3" in shown.text.splitlines()
    await bram.say("matrix doel toevoegen")
    await bram.say(GOAL_2)
    await bram.say("stop")  # leaves the walk; the goal stays

    # Lea changes a row and removes one: rows are the team's, anyone may.
    lea = team["lea"].dm
    overview = await lea.say("matrix")
    assert [r.text.splitlines()[0] for r in overview if isinstance(r, Text)][:2] == [
        "Impactmatrix · Demo Zorg & Welzijn", f"Doel 2 · {GOAL_2}"]
    assert [o.label for o in overview[-1].options] == [  # type: ignore[attr-defined]
        f"Doel 1: {GOAL_1}", f"Doel 2: {GOAL_2}", "Nieuw doel"]
    await lea.press(f"Doel 1: {GOAL_1}")
    await lea.press("Een regel aanpassen of weghalen")
    await lea.press("Wie doet mee: Twee docenten per school en de decaan")
    [edit] = await lea.press("Aanpassen")
    assert isinstance(edit, FreeText) and ROWS_1["contributors"] in edit.prompt
    saved, *_ = await lea.say("Drie docenten per school en de decaan")
    assert saved == said(content, "matrix_saved", name="Wie doet mee")
    await lea.press("Een regel aanpassen of weghalen")
    await lea.press("De volgende stap: Een gezamenlijk keuzedeel")
    removed, *_ = await lea.press("Weghalen")
    assert removed == said(content, "matrix_removed", name="De volgende stap")

    assert await stored(sessions) == [
        (GOAL_1, "impact", ROWS_1["impact"]),
        (GOAL_1, "activities", ROWS_1["activities"]),
        (GOAL_1, "contributors", "Drie docenten per school en de decaan"),
        (GOAL_1, "progress", ROWS_1["progress"]),
        (GOAL_1, "activities", "Gastlessen door mbo-docenten in klas 3")]
    async with sessions() as session:  # who changed it last is kept, as bookkeeping
        lea_id = await session.scalar(select(Member.id).where(Member.user_ref == "lea"))
        edited = await session.scalar(select(MatrixEntry.updated_by).where(
            MatrixEntry.step_id == "contributors"))
        assert edited == lea_id

    # Shown to the whole chat on request: one message per goal, no names in it.
    posts = await team["anna"].group.say("matrix toon")
    assert len(posts) == 2 and all(isinstance(p, Text) and not p.private for p in posts)
    assert not any(name in p.text for p in posts for name in ("Lea", "Anna", "Bram"))  # type: ignore[attr-defined]

    code, markdown = await print_plan(database_url, "--partnership", str(partnership.id))
    assert code == 0, markdown
    lines = markdown.splitlines()
    assert lines[0] == "# Impactmatrix · Demo Zorg & Welzijn"
    assert [line for line in lines if line.startswith("## ")] == [
        f"## Doel 1 · {GOAL_1}", f"## Doel 2 · {GOAL_2}"]
    activities = lines.index("### Activiteiten")
    assert lines[activities + 2: activities + 4] == [
        f"- {ROWS_1['activities']}", "- Gastlessen door mbo-docenten in klas 3"]
    assert "_Bijgewerkt op 3 januari 2027_" in lines
    code, english = await print_plan(database_url, "--partnership", str(partnership.id),
                                     "--lang", "en")
    assert english.startswith("# Impact matrix · Demo Zorg & Welzijn\n")
    assert f"## Goal 2 · {GOAL_2}" in english and "### Activities" in english


async def test_removing_a_goal_asks_first_and_takes_its_rows(
    team: dict[str, Person], sessions: async_sessionmaker[Any], content: Content
) -> None:
    await first_goal(team["anna"], content)
    bram = team["bram"].dm
    await bram.say("matrix 1")
    [confirm] = await bram.press("Doel weghalen")
    assert isinstance(confirm, Choice) and confirm.prompt.startswith("Doel 1 (Iedere")
    await bram.press("Nee, laat staan")
    assert len(await stored(sessions)) == 5
    [stale] = await team["anna"].dm.press_value("mx:drop_yes:1")  # not asked: nothing goes
    assert stale == said(content, "stale_button")
    await bram.say("matrix 1")
    await bram.press("Doel weghalen")
    assert await bram.press("Ja, haal het weg") == [
        said(content, "matrix_goal_dropped", number=1)]
    assert await stored(sessions) == []
    assert await bram.say("matrix toon") == [said(content, "matrix_no_plan")]


async def test_wrong_input_is_met_kindly(
    team: dict[str, Person], sessions: async_sessionmaker[Any], content: Content
) -> None:
    anna = team["anna"].dm
    assert await anna.say("matrix 9") == [said(content, "matrix_usage")]
    assert await anna.press_value("mx:g:999") == [said(content, "stale_button")]
    assert await anna.press_value("mx:add:1:2:x") == [said(content, "stale_button")]
    await anna.say("matrix")
    assert await anna.say("2") == [said(content, "matrix_not_number")]  # a bare number
    assert await anna.say("twee") == [said(content, "matrix_not_number")]
    await anna.say(GOAL_1)
    long = "Meeloopdagen " * 400
    shortened, *_ = await anna.say(long)
    assert shortened == said(content, "matrix_shortened", limit=MAX_STEP_TEXT)
    [stopped] = await anna.say("stop")
    assert stopped == said(content, "matrix_stopped")
    assert await anna.say("Iets heel anders") == [said(content, "unknown")]
    [(_, step, text)] = await stored(sessions)
    assert step == "impact" and len(text) <= MAX_STEP_TEXT
    # In the overview a long row is cut at a word, kindly, so lines stay short in a chat.
    table, _ = await anna.say("matrix")
    assert isinstance(table, Text) and "  • Meeloopdagen Meeloopdagen" in table.text
    assert max(len(line) for line in table.text.splitlines()) <= 100
    assert table.text.splitlines()[4].endswith("Meeloopdagen…")
    # A goal removed by a teammate while someone was typing a row for it.
    await anna.say("matrix 1")
    await anna.press("+ Voortgang")
    async with sessions() as session, session.begin():
        await session.delete(await session.scalar(select(MatrixGoal)))
    assert await anna.say("Een enquête") == [said(content, "matrix_gone")]


async def test_a_goal_of_another_partnership_cannot_be_reached(
    team: dict[str, Person], sessions: async_sessionmaker[Any], content: Content,
    partnership: Partnership, clock: Clock,
) -> None:
    async with sessions() as session, session.begin():
        other = Partnership(name="Andere regio", created_at=clock.now)
        session.add(other)
        await session.flush()
        goal = MatrixGoal(partnership_id=other.id, title="Geheim", created_at=clock.now,
                          updated_at=clock.now)
        session.add(goal)
        await session.flush()
        session.add(MatrixEntry(partnership_id=other.id, goal_id=goal.id, step_id="impact",
                                text="Niet van jullie", updated_at=clock.now))
    anna = team["anna"].dm
    for value in (f"mx:g:{goal.id}", f"mx:add:{goal.id}:3", f"mx:drop:{goal.id}", "mx:e:1",
                  "mx:del:1", f"mx:title:{goal.id}"):
        assert await anna.press_value(value) == [said(content, "stale_button")], value
    assert await anna.say("matrix toon") == [said(content, "matrix_no_plan")]
    async with sessions() as session:
        assert await session.scalar(select(MatrixEntry.text)) == "Niet van jullie"


async def test_the_matrix_in_english(
    engine: Engine, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock,
    content: Content,
) -> None:
    team = await add_people(engine, sessions, partnership, clock, "eve", language="en")
    dm = team["eve"].dm
    intro, prompt = await dm.say("matrix")
    assert intro == said(content, "matrix_intro", "en")
    assert isinstance(prompt, FreeText) and prompt.prompt.startswith("New goal")
    _, step = await dm.say("Every student shadows two days")
    assert isinstance(step, FreeText) and step.prompt.startswith("Goal 1 · step 1/6 · Impact")
    await dm.say("Fewer drop-outs")
    [stopped] = await dm.say("stop")
    assert stopped == said(content, "matrix_stopped", "en")
    replies = await dm.say("matrix")
    assert isinstance(replies[0], Text) and replies[0].text.splitlines()[2:4] == [
        "Goal 1 · Every student shadows two days", "Impact:"]
    assert "Activities: not filled in yet" in replies[0].text


async def test_the_cli_says_when_a_partnership_does_not_exist(database_url: str) -> None:
    code, output = await print_plan(database_url, "--partnership", "42")
    assert code == 1 and "no partnership with id 42" in output


async def test_an_old_plan_becomes_the_first_goal_on_upgrade(database_url: str) -> None:
    engine = db.create_engine(database_url)
    await db.upgrade(engine, "0018_indexes")
    when = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)

    def seed(connection: Any) -> None:
        metadata = MetaData()
        partnership = Table("partnership", metadata, autoload_with=connection)
        plan = Table("plan_step", metadata, autoload_with=connection)
        for pid in (1, 2):
            connection.execute(partnership.insert().values(
                id=pid, name=f"P{pid}", sector="", region="midden",
                timezone="Europe/Amsterdam", language="nl", created_at=when))
        connection.execute(plan.insert(), [
            {"partnership_id": 1, "step_id": "impact", "text": "Minder uitval",
             "updated_at": when},
            {"partnership_id": 1, "step_id": "goals", "text": "Iedereen loopt mee",
             "updated_at": when},
            {"partnership_id": 1, "step_id": "activities", "text": "Meeloopdagen",
             "updated_at": when},
            {"partnership_id": 2, "step_id": "progress", "text": "Een enquête",
             "updated_at": when}])

    async with engine.begin() as connection:
        await connection.run_sync(seed)
    await db.upgrade(engine)
    async with engine.connect() as connection:
        goals = (await connection.execute(select(
            MatrixGoal.partnership_id, MatrixGoal.title).order_by(MatrixGoal.id))).all()
        rows = (await connection.execute(select(
            MatrixEntry.partnership_id, MatrixEntry.step_id, MatrixEntry.text)
            .order_by(MatrixEntry.id))).all()
    assert [tuple(g) for g in goals] == [(1, "Iedereen loopt mee"), (2, "")]
    assert [tuple(r) for r in rows] == [(1, "impact", "Minder uitval"),
                                        (1, "activities", "Meeloopdagen"),
                                        (2, "progress", "Een enquête")]

    def downgrade(connection: Any) -> list[tuple[Any, ...]]:  # and back: the first goal
        config = db.alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "0018_indexes")
        plan = Table("plan_step", MetaData(), autoload_with=connection)
        found = connection.execute(select(plan.c.partnership_id, plan.c.step_id, plan.c.text)
                                   .order_by(plan.c.partnership_id, plan.c.step_id))
        return [tuple(row) for row in found]

    async with engine.begin() as connection:
        back = await connection.run_sync(downgrade)
    await engine.dispose()
    assert back == [(1, "activities", "Meeloopdagen"), (1, "goals", "Iedereen loopt mee"),
                    (1, "impact", "Minder uitval"), (2, "progress", "Een enquête")]


@given(text=st.text(min_size=0, max_size=400), limit=st.integers(min_value=10, max_value=120))
def test_a_shortened_text_fits_and_keeps_its_start(text: str, limit: int) -> None:
    short = shorten(text, limit)
    words = " ".join(text.split())
    assert len(short) <= limit
    if len(words) <= limit:
        assert short == words
    else:
        assert short.endswith("…") and words.startswith(short[:-1].rstrip(" ,.;:"))

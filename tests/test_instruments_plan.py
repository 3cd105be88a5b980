"""The impact matrix as the partnership's plan: filled in and revised step by step by a
project leader, read by everyone, printed as Markdown by `achtje plan`."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker
from typer.testing import CliRunner

from bot.cli import app
from bot.content import Content
from bot.engine import Engine
from bot.messages import Choice, FreeText, Text
from bot.store.instruments import PlanStep
from bot.store.models import Partnership
from tests.conftest import Clock
from tests.instruments_fakes import Person, add_people, said

ANSWERS = {
    "impact": "Minder uitval in het eerste mbo-jaar Zorg en Welzijn",
    "goals": "Iedere derdejaars loopt een dag mee",
    "activities": "Start een werkgroep meeloopdagen met vmbo en mbo",  # starts with a command
    "contributors": "Twee docenten per school en de decaan",
    # resources is skipped
    "progress": "We vragen leerlingen na elke meeloopdag wat ze leerden",
    "next_level": "Een gezamenlijk keuzedeel",
}


@pytest.fixture
async def team(engine: Engine, sessions: async_sessionmaker[Any], partnership: Partnership,
               clock: Clock) -> dict[str, Person]:
    return await add_people(engine, sessions, partnership, clock, "lea", "anna", leader="lea")


async def plan(sessions: async_sessionmaker[Any]) -> dict[str, str]:
    async with sessions() as session:
        return {row.step_id: row.text for row in await session.scalars(select(PlanStep))}


async def print_plan(database_url: str, *args: str) -> tuple[int, str]:
    """`achtje plan ...` through the CLI, on the test database, off the event loop."""
    result = await asyncio.to_thread(
        CliRunner().invoke, app, ["plan", *args], env={"ACHTJE_DATABASE_URL": database_url})
    return result.exit_code, result.output


async def fill_in(leader: Person, content: Content) -> None:
    replies = await leader.dm.say("matrix")
    assert replies[0] == said(content, "matrix_intro", total=7)
    for step in content.impact_matrix:
        prompt = leader.dm.sent[-1]
        assert isinstance(prompt, FreeText) and prompt.prompt.startswith(f"Stap {step.number}/7")
        assert step.hint.nl in prompt.prompt
        if step.id in ANSWERS:
            await leader.dm.say(ANSWERS[step.id])
        else:
            await leader.dm.press("Sla deze stap over")


async def test_a_leader_fills_in_and_revises_the_plan_step_by_step(
    team: dict[str, Person], sessions: async_sessionmaker[Any], content: Content, clock: Clock,
    partnership: Partnership, database_url: str,
) -> None:
    lea = team["lea"].dm
    await fill_in(team["lea"], content)
    assert lea.sent[-2] == said(content, "matrix_done")
    assert "5. Wat het vraagt: nog niet ingevuld" in lea.last_text()
    assert await plan(sessions) == ANSWERS

    clock.advance(days=40)
    replies = await lea.say("matrix 2")
    assert isinstance(replies[0], FreeText)
    assert content.text("matrix_current", "nl", text=ANSWERS["goals"]) in replies[0].prompt
    assert await lea.say("Iedere derdejaars loopt twee dagen mee") == [
        said(content, "matrix_saved", name="Doelen")]
    replies = await lea.say("matrix 5")
    await lea.say("Veertig uur per docent en een bus")
    # A step can be left as it is, and `matrix` on a full plan offers a step to revise.
    replies = await lea.say("matrix")
    assert isinstance(replies[1], Choice) and len(replies[1].options) == 7
    await lea.press("3. Activiteiten")
    assert await lea.press("Laat het zo") == [said(content, "matrix_kept", name="Activiteiten")]

    stored = await plan(sessions)
    assert stored["goals"] == "Iedere derdejaars loopt twee dagen mee"
    assert stored["resources"] == "Veertig uur per docent en een bus"
    assert stored["activities"] == ANSWERS["activities"]
    async with sessions() as session:
        assert await session.scalar(select(PlanStep.id).where(PlanStep.step_id == "goals")) == 2

    code, markdown = await print_plan(database_url, "--partnership", str(partnership.id))
    assert code == 0, markdown
    lines = markdown.splitlines()
    assert lines[0] == "# Impactmatrix · Demo Zorg & Welzijn"
    goals = lines.index("## 2. Doelen")
    assert lines[goals + 2] == f"> {content.impact_matrix[1].question.nl}"
    assert lines[goals + 4] == "Iedere derdejaars loopt twee dagen mee"
    assert lines[goals + 6] == "_Bijgewerkt op 3 januari 2027_"
    impact = lines.index("## 1. Impact")
    assert lines[impact + 6] == "_Bijgewerkt op 24 november 2026_"
    assert ANSWERS["goals"] not in markdown  # only the latest text counts
    assert [line for line in lines if line.startswith("## ")] == [
        f"## {s.number}. {s.name.nl}" for s in content.impact_matrix]

    code, english = await print_plan(database_url, "--partnership", str(partnership.id),
                                     "--lang", "en")
    assert english.startswith("# Impact matrix · Demo Zorg & Welzijn\n")
    assert "## 2. Goals" in english


async def test_the_cli_says_when_a_partnership_does_not_exist(database_url: str) -> None:
    code, output = await print_plan(database_url, "--partnership", "42")
    assert code == 1 and "no partnership with id 42" in output


async def test_a_member_reads_the_plan_but_cannot_change_it(
    team: dict[str, Person], sessions: async_sessionmaker[Any], content: Content
) -> None:
    await fill_in(team["lea"], content)
    anna = team["anna"]
    replies = await anna.dm.say("matrix")
    assert isinstance(replies[0], Text) and ANSWERS["impact"] in replies[0].text
    assert replies[1] == said(content, "leaders_only")
    assert await anna.dm.say("matrix 2") == replies
    assert await anna.dm.press_value("mx:2") == [said(content, "leaders_only")]
    assert await anna.dm.say("Iets heel anders als doel") == [said(content, "unknown")]
    # Shown to the whole channel on request.
    replies = await anna.group.say("matrix toon")
    assert isinstance(replies[0], Text) and not replies[0].private
    assert await plan(sessions) == ANSWERS


async def test_an_empty_plan_says_so_and_odd_step_numbers_get_help(
    team: dict[str, Person], content: Content
) -> None:
    assert await team["anna"].dm.say("matrix toon") == [said(content, "matrix_no_plan")]
    assert await team["lea"].dm.say("matrix 9") == [said(content, "matrix_usage", total=7)]
    assert await team["lea"].dm.press_value("mx:0") == [said(content, "stale_button")]
    assert await team["lea"].dm.press_value("mx:2:wrong") == [said(content, "stale_button")]

"""The figure-eight check: fifteen questions, stored per school and level, drawn as a PNG."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.content import Content
from bot.engine import Engine
from bot.flows.instruments import drawing
from bot.flows.instruments.figure_eight import STEPS
from bot.messages import FreeText, Image, Noted, Scale, Text
from bot.store.instruments import FigureEightCheck, FigureEightLevel, FigureEightLink
from bot.store.models import Partnership, School
from tests.conftest import Clock
from tests.instruments_fakes import Person, add_people, assert_png, said

# Level by level: names and inside score at De Brug, the same at Kompas, then the link.
WALK = ["Karin de Vries", "goed", "Nog niemand", "?", "matig",
        "Ahmed en Els", "3", "Pieter", "goed", "goed",
        "4 docenten zorg", "1", "2 docenten", "heel goed", "overslaan"]
BUTTONS = {"goed", "matig", "heel goed", "overslaan", "Nog niemand"}


@pytest.fixture
async def team(engine: Engine, sessions: async_sessionmaker[Any], partnership: Partnership,
               clock: Clock) -> dict[str, Person]:
    return await add_people(engine, sessions, partnership, clock, "anna", "bram")


async def walk(person: Person, answers: list[str]) -> list[Any]:
    replies: list[Any] = []
    for answer in answers:
        if answer in BUTTONS:
            replies = await person.dm.press(answer)
        else:
            replies = await person.dm.say(answer)
    return replies


async def test_a_whole_check_is_stored_and_drawn_with_its_weak_links(
    team: dict[str, Person], sessions: async_sessionmaker[Any], content: Content
) -> None:
    replies = await team["anna"].dm.say("achtje")
    assert content.figure_eight.intro.nl in replies[0].text  # type: ignore[attr-defined]
    first = replies[1]
    assert isinstance(first, FreeText) and first.prompt.startswith("1/15 · Bestuur")
    assert "Vmbo De Brug" in first.prompt and first.skip is not None

    replies = await walk(team["anna"], WALK[:1])
    assert isinstance(replies[0], Scale) and replies[0].prompt.startswith("2/15")
    assert [o.label for o in replies[0].options][:5] == [
        "nauwelijks", "matig", "redelijk", "goed", "heel goed"]
    replies = await walk(team["anna"], WALK[1:])

    image, weak = replies[0], replies[1]
    assert isinstance(image, Image) and isinstance(weak, Text)
    assert_png(image.png)
    assert "Vmbo De Brug" in image.caption and "Mbo College Kompas" in image.caption
    missing = content.text("eight_legend_missing", "nl")
    assert weak.text.splitlines()[1:4] == [
        "- Vmbo De Brug: tussen Management en projectleiding en Docenten (1)",
        f"- Mbo College Kompas: tussen Bestuur en Management en projectleiding ({missing})",
        f"- Bestuur: tussen Vmbo De Brug en Mbo College Kompas ({missing})",
    ]
    for question in content.figure_eight.levels[0].questions[1:]:
        assert question.nl in weak.text
    assert replies[2] == said(content, "eight_share_hint")

    async with sessions() as session:
        schools = {s.id: s.name for s in await session.scalars(select(School))}
        levels = {(schools[row.school_id], row.level): (row.names, row.inside)
                  for row in await session.scalars(select(FigureEightLevel))}
        links = {row.level: row.score for row in await session.scalars(select(FigureEightLink))}
        check = await session.scalar(select(FigureEightCheck))
    assert levels == {
        ("Vmbo De Brug", "board"): ("Karin de Vries", 4),
        ("Mbo College Kompas", "board"): ("", None),
        ("Vmbo De Brug", "management"): ("Ahmed en Els", 3),
        ("Mbo College Kompas", "management"): ("Pieter", 4),
        ("Vmbo De Brug", "teachers"): ("4 docenten zorg", 1),
        ("Mbo College Kompas", "teachers"): ("2 docenten", 5),
    }
    assert links == {"board": 2, "management": 4, "teachers": None}
    assert check is not None and check.completed_at is not None


async def test_a_check_continues_where_it_stopped_and_the_team_sees_the_latest(
    team: dict[str, Person], content: Content
) -> None:
    assert await team["anna"].group.say("achtje toon") == [
        Text(text=content.text("eight_none_yet", "nl"), private=True)]
    await team["anna"].dm.say("achtje")
    await walk(team["anna"], WALK[:3])
    replies = await team["anna"].dm.say("figure8")
    assert replies[0] == said(content, "eight_continue")
    assert isinstance(replies[1], Scale) and replies[1].prompt.startswith("4/15")
    # Someone else's buttons are not theirs to press.
    button = team["anna"].dm.find_option("goed").value
    assert await team["bram"].dm.press_value(button) == [said(content, "stale_button")]

    await walk(team["anna"], WALK[3:])
    replies = await team["bram"].group.say("achtje toon")
    assert isinstance(replies[0], Image) and not replies[0].private
    assert isinstance(replies[1], Text) and not replies[1].private
    assert_png(replies[0].png)


async def test_an_earlier_answer_can_be_corrected_with_its_button(
    team: dict[str, Person], sessions: async_sessionmaker[Any]
) -> None:
    await team["anna"].dm.say("achtje")
    await walk(team["anna"], WALK[:2])
    old = team["anna"].dm.find_option("goed").value  # step 2's "goed"
    await walk(team["anna"], WALK[2:4])
    asked = len(team["anna"].dm.sent)
    replies = await team["anna"].dm.press_value(old.replace(":4", ":2"))
    # The correction is kept; the open question (5/15) is not asked a second time.
    assert replies == [Noted()] and len(team["anna"].dm.sent) == asked
    async with sessions() as session:
        inside = await session.scalar(select(FigureEightLevel.inside).where(
            FigureEightLevel.level == "board", FigureEightLevel.names == "Karin de Vries"))
    assert inside == 2


@pytest.mark.parametrize("value", ["e8:1:0:3", "e8:1:1:none", "e8:1:9:3", "e8:1:99:3",
                                   "e8:7:0:none", "e8:1:x:3"])
async def test_stale_or_forged_figure_eight_buttons_get_a_kind_answer(
    team: dict[str, Person], content: Content, value: str
) -> None:
    await team["anna"].dm.say("achtje")
    assert await team["anna"].dm.press_value(value) == [said(content, "stale_button")]


def test_the_links_mark_low_scores_and_missing_people_as_weak() -> None:
    levels = (
        drawing.EightLevel("B", ("x", "y"), (5, 2), 3),
        drawing.EightLevel("M", ("x", ""), (4, None), 5),
        drawing.EightLevel("D", ("x", "y"), (None, 5), None),
    )
    found = {(link.school, link.level): (link.score, link.weak)
             for link in drawing.links(drawing.Eight("t", ("A", "B"), levels))}
    assert found == {
        (0, 0): (4, False), (0, 1): (None, False),  # unknown is not called weak
        (1, 0): (None, True), (1, 1): (None, True),  # nobody at management in B
        (None, 0): (3, False), (None, 1): (5, True), (None, 2): (None, False),
    }


def test_odd_names_draw_without_trouble() -> None:
    odd = "$x^2$ \\alpha " + "Jan-Willem van der Berg-Oosterhuis, " * 20 + "🙂 ✓"
    level = drawing.EightLevel("Docenten", (odd, ""), (1, 5), 2)
    eight = drawing.Eight("Het achtje · $ & <b>", ("School $A$", "B" * 80), (level,) * 3)
    words = drawing.Words("nog niemand", "goed", "redelijk", "zwak", "ontbreekt", "weet niet")
    assert_png(drawing.draw(eight, words))


def test_the_steps_walk_level_by_level() -> None:
    assert len(STEPS) == 15
    assert [(s.level, s.kind, s.side) for s in STEPS[:5]] == [
        ("board", "names", 0), ("board", "inside", 0), ("board", "names", 1),
        ("board", "inside", 1), ("board", "link", 0)]

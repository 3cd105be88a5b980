"""The figure-eight from everyone's ratings: each member rates the links they see, a link
shows its median with n from three ratings, and a shown figure only changes when three
more came in. Transcripts in Dutch and English through the memory adapter."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.memory import MemoryChat
from bot.content import Content
from bot.engine import Engine
from bot.flows.instruments import drawing
from bot.flows.instruments.eight_links import (
    Figure,
    Rating,
    all_links,
    member_links,
    shown_figures,
)
from bot.messages import Choice, Image, Noted, Scale, Text
from bot.store.instruments import FigureEightRating
from bot.store.models import Member, Partnership, School
from tests.conftest import Clock
from tests.instruments_fakes import GROUP, Person, assert_png, said

MINIMUM = 3


async def people(engine: Engine, sessions: async_sessionmaker[Any], partnership: Partnership,
                 clock: Clock, places: dict[str, tuple[int, str]], *, leader: str = "",
                 language: str = "nl", schools: int = 3) -> dict[str, Person]:
    """Members at (school index, level); the demo partnership gets a third school."""
    async with sessions() as session, session.begin():
        found = list(await session.scalars(
            select(School).where(School.partnership_id == partnership.id).order_by(School.id)))
        while len(found) < schools:
            found.append(School(partnership_id=partnership.id, type="vmbo",
                                name=f"Vmbo Het Anker {len(found)}"))
            session.add(found[-1])
        await session.flush()
        for user, (school, level) in places.items():
            session.add(Member(
                partnership_id=partnership.id, platform="test", user_ref=user,
                display_name=user.capitalize(), school_id=found[school].id, level=level,
                role="leader" if user == leader else "member", language=language,
                onboarded_at=clock.now, created_at=clock.now))
    return {user: Person(user, MemoryChat(engine, user=user, chat=f"dm-{user}"),
                         MemoryChat(engine, user=user, chat=GROUP, direct=False))
            for user in places}


async def rate_all(person: Person, scores: list[str], command: str = "achtje") -> list[Any]:
    replies = await person.dm.say(command)
    for score in scores:
        replies = await person.dm.say(score)
    return replies


async def test_a_teacher_rates_the_links_they_see_and_the_eight_shows_medians_from_three(
    engine: Engine, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock,
    content: Content,
) -> None:
    team = await people(engine, sessions, partnership, clock, {
        "anna": (0, "teachers"), "bram": (0, "teachers"), "cem": (0, "teachers"),
        "dewi": (1, "teachers"), "eva": (0, "management")})
    replies = await team["anna"].dm.say("achtje")
    intro, first = replies
    # Three schools: up to management in her school, and to the teachers of the other two.
    assert isinstance(intro, Choice) and "3 verbindingen die je zelf ziet" in intro.prompt
    assert [o.label for o in intro.options] == ["Stop"]
    assert isinstance(first, Scale) and first.prompt.startswith("1/3\nBinnen Vmbo De Brug")
    assert "Management en projectleiding en Docenten" in first.prompt
    assert [o.label for o in first.options][:5] == [
        "nauwelijks", "matig", "redelijk", "goed", "heel goed"]
    second = (await team["anna"].dm.press("matig"))[0]
    assert isinstance(second, Scale) and second.prompt == (
        "2/3\nDocenten: hoe goed is het contact tussen Vmbo De Brug en Mbo College Kompas?")
    await team["anna"].dm.say("1")
    image, text, thanks = await team["anna"].dm.say("?")
    assert isinstance(image, Image) and isinstance(text, Text)
    assert_png(image.png)
    assert thanks == said(content, "eight_share_hint")
    # One person's ratings are nobody's figure: every link has too few answers.
    assert "Zwakke" not in text.text
    assert "15 verbindingen: te weinig antwoorden (nog geen 3)." in text.text

    await rate_all(team["bram"], ["2", "2", "4"])
    replies = await rate_all(team["cem"], ["1", "3", "5"])
    text = replies[1]
    assert isinstance(text, Text)
    lines = text.text.splitlines()
    # Management-teachers at De Brug: 2, 2, 1 -> median 2 (n=3), a weak link, with the
    # questions on roles, communication and where agreements travel.
    assert lines[:2] == ["Zwakke verbindingen:",
                         "- Vmbo De Brug, Management en projectleiding en Docenten: 2 (n=3)"]
    assert "Docenten, Vmbo De Brug en Mbo College Kompas: 2" in text.text  # 1, 2, 3
    assert "Om te bespreken, te beginnen bij Vmbo De Brug" in text.text
    assert "Welke rol heeft elke laag hier" in text.text
    assert "13 verbindingen: te weinig antwoorden" in text.text

    # A fourth rating of that link changes nothing that is shown: it would tell Eva's score.
    before = text.text
    replies = await rate_all(team["eva"], ["5", "5", "?", "?"])
    assert isinstance(replies[1], Text) and replies[1].text == before

    # The team sees the same, in the channel.
    shown = await team["dewi"].group.say("achtje toon")
    assert isinstance(shown[0], Image) and not shown[0].private
    assert isinstance(shown[1], Text) and shown[1].text == before
    async with sessions() as session:
        rows = list(await session.scalars(select(FigureEightRating)))
    assert len(rows) == 3 * 3 + 4 and {r.score for r in rows} == {None, 1, 2, 3, 4, 5}


async def test_stop_typed_or_pressed_leaves_the_figure_eight(
    engine: Engine, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock,
    content: Content,
) -> None:
    team = await people(engine, sessions, partnership, clock, {"anna": (0, "board")})
    await team["anna"].dm.say("achtje")
    assert await team["anna"].dm.say("stop") == [said(content, "eight_stopped")]
    assert await team["anna"].dm.say("4") != [Noted()]  # no longer a rating
    replies = await team["anna"].dm.say("achtje")
    assert isinstance(replies[1], Scale) and replies[1].prompt.startswith("1/3")
    assert await team["anna"].dm.press("Stop") == [said(content, "eight_stopped")]
    async with sessions() as session:
        assert list(await session.scalars(select(FigureEightRating))) == []


async def test_an_english_manager_rates_both_links_inside_and_can_change_them(
    engine: Engine, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock,
    content: Content,
) -> None:
    team = await people(engine, sessions, partnership, clock, {"max": (1, "management")},
                        language="en", schools=2)
    replies = await team["max"].dm.say("figure8")
    assert isinstance(replies[0], Choice)
    assert "3 connections you see yourself" in replies[0].prompt
    assert isinstance(replies[1], Scale) and replies[1].prompt.startswith(
        "1/3\nWithin Mbo College Kompas: how well are Governing body and Management")
    assert await team["max"].dm.say("seven") == [said(content, "eight_typed_help", "en")]
    await team["max"].dm.say("3")
    await team["max"].dm.say("4")
    replies = await team["max"].dm.say("skip")
    assert isinstance(replies[0], Image)
    assert "too few answers" in replies[1].text  # type: ignore[attr-defined]
    replies = await team["max"].dm.say("figure8")
    assert replies[-1] == said(content, "eight_all_rated", "en")
    replies = await team["max"].dm.say("figure8 again")
    assert isinstance(replies[1], Scale) and replies[1].prompt.startswith("1/3")
    await team["max"].dm.say("1")
    async with sessions() as session:
        scores = sorted((r.link, r.score) for r in await session.scalars(
            select(FigureEightRating)))
    assert [score for _, score in scores].count(1) == 1 and len(scores) == 3


async def test_a_new_round_is_for_leaders_and_old_buttons_then_say_so(
    engine: Engine, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock,
    content: Content,
) -> None:
    team = await people(engine, sessions, partnership, clock,
                        {"lea": (0, "management"), "anna": (1, "teachers")}, leader="lea")
    await team["anna"].dm.say("achtje")
    button = team["anna"].dm.find_option("goed").value
    assert (await team["anna"].group.say("achtje nieuw"))[0].text == content.text(  # type: ignore[attr-defined]
        "leaders_only", "nl")
    replies = await team["lea"].group.say("achtje nieuw")
    assert replies == [Text(text=content.text("eight_new_round", "nl", minimum=3),
                            public=True)]
    assert await team["anna"].dm.press_value(button) == [said(content, "eight_round_closed")]
    assert await team["anna"].dm.press_value("e8:999:0:3") == [said(content, "stale_button")]


async def test_a_question_asked_before_a_move_to_another_school_is_not_counted_after_it(
    engine: Engine, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock,
    content: Content,
) -> None:
    """Anna's links follow from her school and level: a question on her first link, answered
    after she moved to another school, would land on the new first link. It is refused."""
    team = await people(engine, sessions, partnership, clock, {"anna": (0, "teachers")})
    await team["anna"].dm.say("achtje")
    button = team["anna"].dm.find_option("goed").value
    async with sessions() as session, session.begin():
        anna = await session.scalar(select(Member).where(Member.user_ref == "anna"))
        schools = list(await session.scalars(select(School).order_by(School.id)))
        assert anna is not None
        anna.school_id = schools[1].id
    assert await team["anna"].dm.press_value(button) == [said(content, "stale_button")]
    assert await team["anna"].dm.say("4") == [said(content, "stale_button")]
    async with sessions() as session:
        assert list(await session.scalars(select(FigureEightRating))) == []
    # Asked again from the new school, the answer counts.
    await team["anna"].dm.say("achtje")
    await team["anna"].dm.press("goed")
    async with sessions() as session:
        assert len(list(await session.scalars(select(FigureEightRating)))) == 1


@pytest.mark.parametrize("count", [2, 3, 5])
def test_the_eight_draws_for_any_number_of_schools(count: int) -> None:
    schools = tuple((n + 1, f"School {n + 1} " + "$x$ & <b> " * n) for n in range(count))
    links = all_links([school for school, _ in schools])
    figures = {link.key: Figure(3 + n % 3, 1 + n % 5) for n, link in enumerate(links) if n % 4}
    eight = drawing.Eight("Het achtje · $ & <b>", schools, ("Bestuur", "Management", "Docenten"),
                          tuple(tuple(f"{n} deelnemers" for n in range(count)) for _ in range(3)),
                          figures)
    assert_png(drawing.draw(eight, drawing.Words("goed", "redelijk", "zwak", "te weinig")))


def test_each_place_sees_its_own_links() -> None:
    keys = {level: [link.key for link in member_links([1, 2, 3], 2, level)]
            for level in ("board", "management", "teachers")}
    assert keys == {
        "board": ["in:board:2", "x:board:1:2", "x:board:2:3"],
        "management": ["in:board:2", "in:management:2", "x:management:1:2",
                       "x:management:2:3"],
        "teachers": ["in:management:2", "x:teachers:1:2", "x:teachers:2:3"],
    }
    assert member_links([1, 2], None, "board") == member_links([1, 2], 1, None) == []
    assert len(all_links([1, 2, 3, 4])) == 4 * 2 + 6 * 3


# Events: (member 0-5, link 0-2, score 1-5 or None for don't know).
EVENTS = st.lists(st.tuples(st.integers(0, 5), st.integers(0, 2),
                            st.one_of(st.none(), st.integers(1, 5))), max_size=40)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(EVENTS)
def test_no_output_shows_a_small_group_or_one_rating(events: list[tuple[int, int,
                                                                         int | None]]) -> None:
    """After every rating the eight is looked at. No figure comes from fewer than three
    scores, and between two looks a figure changes only when at least three scores came in
    (or changed) since it was computed: so one person's rating, given between two looks, is
    never what tells the two apart."""
    current: dict[tuple[int, int], Rating] = {}
    shown: dict[str, Any] | None = None
    before: dict[str, Figure] = {}
    since_change: dict[str, set[int]] = {}  # members who scored a link since its last change
    for seq, (member, link, score) in enumerate(events, start=1):
        key = f"in:board:{link}"
        current[(member, link)] = Rating(key, score, seq)
        if score is not None:
            since_change.setdefault(key, set()).add(member)
        figures, shown = shown_figures(current.values(), shown, MINIMUM)
        for name, figure in figures.items():
            assert figure.median is None or figure.n >= MINIMUM
            if figure != before.get(name, Figure()):
                assert len(since_change.get(name, set())) >= MINIMUM
                scores = [r.score for r in current.values()
                          if r.link == name and r.score is not None]
                assert figure.n == len(scores)
                since_change[name] = set()
        before = figures


async def test_the_same_rating_given_again_does_not_count_as_new(
    engine: Engine, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock,
) -> None:
    """Three people rated; a fourth adds one rating and two others give theirs again
    unchanged. Counting those as new would update the figure by the fourth alone."""
    team = await people(engine, sessions, partnership, clock, {
        user: (0, "teachers") for user in ("anna", "bram", "cem", "dewi")}, schools=2)
    for user, score in (("anna", "2"), ("bram", "3"), ("cem", "4")):
        await rate_all(team[user], [score, "?"])
    shown = (await team["anna"].group.say("achtje toon"))[1]
    await rate_all(team["dewi"], ["5", "?"])
    for user, score in (("anna", "2"), ("bram", "3")):
        await rate_all(team[user], [score, "?"], command="achtje opnieuw")
    assert (await team["anna"].group.say("achtje toon"))[1] == shown
    async with sessions() as session:
        seqs = sorted(r.seq for r in await session.scalars(select(FigureEightRating)))
    assert len(seqs) == 8 and max(seqs) == 8  # the repeats took no new place

"""No figure of a small group can be worked out from what the summaries publish.

Random partnerships answer an anchor and rotating statements over two months; each month's
summary is exported as JSON (the second compared with the first, as when it is frozen).
The test reads only the published documents and knows who answered what: every published
mean with its n is a known sum over a set of answers (one person's own mean on one
statement in one month). A small group's sum is exposed exactly when its vector lies in the
span of the published ones, across both months, the topic, its groups and its statements.
The distributions are published only with a topic's own mean, over the same people, so
they expose nothing its sum does not.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.content import Content, load_content
from bot.store import db
from bot.summary import compute_summary, load_summary_rules
from bot.summary.export import summary_document
from bot.summary.model import OPEN_TEXT_MIN
from tests.summary_fakes import NOV, OCT, Partners

SIDES = ("vmbo", "mbo")
LEVELS = ("board", "management", "teachers")
# Each month two rounds on the process condition: the anchor, and one other in turn.
ROUNDS = {OCT: (["process_1", "process_2"], ["process_1", "process_3"]),
          NOV: (["process_1", "process_4"], ["process_1", "process_2"])}
answers = st.one_of(st.none(), st.just("dk"), st.integers(1, 5))


@dataclass(frozen=True)
class Scenario:
    people: list[tuple[str, str]]
    # per month, per round, per statement of the round, per person
    given: dict[date, list[list[list[int | str | None]]]]
    minimum: int


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    people = draw(st.lists(st.tuples(st.sampled_from(SIDES), st.sampled_from(LEVELS)),
                           min_size=1, max_size=9))
    chosen = {month: [[draw(st.lists(answers, min_size=len(people), max_size=len(people)))
                      for _ in statements] for statements in rounds]
             for month, rounds in ROUNDS.items()}
    return Scenario(people, chosen, draw(st.sampled_from([3, 4, 5])))


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('leaks') / 'a.db'}"

    async def migrate() -> None:
        engine, _ = await db.connect(url)
        await engine.dispose()

    asyncio.run(migrate())
    return url


async def published(url: str, content: Content, scenario: Scenario) -> list[dict[str, Any]]:
    """The two months' JSON documents, November compared with October as frozen."""
    engine = db.create_engine(url)
    sessions = db.sessionmaker(engine)
    try:
        partners = await Partners.create(sessions)
        ids = [(await partners.members(side, level, 1))[0] for side, level in scenario.people]
        for month, rounds in ROUNDS.items():
            for n, statements in enumerate(rounds):
                round_id = await partners.round(month + timedelta(days=14 * n), statements)
                for statement, scores in zip(statements, scenario.given[month][n], strict=True):
                    await partners.answer(round_id, statement, ids, scores,
                                          [f"tekst {k}" for k in range(len(ids))])
        rules = load_summary_rules(content)
        documents = []
        done = []
        async with sessions() as session:
            for month in ROUNDS:
                summary = await compute_summary(session, content, partners.partnership, month,
                                                earlier=done, min_group_size=scenario.minimum)
                done.append(summary)
                documents.append(summary_document(summary, content, rules))
        return documents
    finally:
        await engine.dispose()


def scorers(scenario: Scenario, month: date, statement: str) -> set[int]:
    """Who gave a score (not only "don't know") on a statement in a month."""
    found = set()
    for statements, answered in zip(ROUNDS[month], scenario.given[month], strict=True):
        if statement in statements:
            scores = answered[statements.index(statement)]
            found |= {p for p, score in enumerate(scores) if isinstance(score, int)}
    return found


def figures(scenario: Scenario, documents: list[dict[str, Any]]
            ) -> Iterator[tuple[date, str, set[int], int | None]]:
    """Every published sum: (month, statement, the people behind it, the n published)."""
    for month, document in zip(ROUNDS, documents, strict=True):
        for topic in (*document["conditions"], *document["boards"]):
            if topic["mean"] is not None and topic["id"] != "collaboration":
                [statement] = topic["score_statements"]
                everyone = scorers(scenario, month, statement)
                yield month, statement, everyone, topic["respondents"]
                for kind, groups in ((0, topic["sides"]), (1, topic["levels"])):
                    for group in groups:
                        yield month, statement, {p for p in everyone if scenario.people[p][kind]
                                                 == group["group"]}, group["respondents"]
            for result in topic["statement_results"]:
                if result["mean"] is not None:
                    yield (month, result["statement"],
                           scorers(scenario, month, result["statement"]), result["respondents"])


def derivable(known: list[list[int]], target: list[int]) -> bool:
    if not known:
        return False
    matrix = np.array(known, dtype=float)
    return bool(np.linalg.matrix_rank(np.vstack([matrix, target])) ==
                np.linalg.matrix_rank(matrix))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(scenario=scenarios())
def test_no_small_group_follows_from_two_months_of_published_json(
    database: str, scenario: Scenario
) -> None:
    minimum = scenario.minimum
    documents = asyncio.run(published(database, load_content(), scenario))
    october, november = documents

    # Nothing small is even counted: every n shown is at least the minimum.
    for document in documents:
        assert "open_answers_withheld" not in document
        for topic in (*document["conditions"], *document["boards"]):
            counts = [topic["respondents"], *(g["respondents"] for g in topic["sides"]),
                      *(g["respondents"] for g in topic["levels"]),
                      *(r["respondents"] for r in topic["statement_results"])]
            assert all(n is None or n >= minimum for n in counts), topic
            for result in topic["statement_results"]:
                if result["open_answers"]:
                    assert result["respondents"] >= max(OPEN_TEXT_MIN, minimum)

    # The change and trend of November are made of published numbers only.
    [before] = [t for t in october["conditions"] if t["id"] == "process"]
    [after] = [t for t in november["conditions"] if t["id"] == "process"]
    assert after["trend"][1]["mean"] == before["mean"]
    if after["change"] is not None:
        assert after["change"] == round(round(after["mean"], 1) - round(before["mean"], 1), 1)
        assert after["direction"] == ("rising" if after["change"] >= 0.25 else "falling"
                                      if after["change"] <= -0.25 else "stable")
    else:
        assert after["direction"] is None

    # The answers behind the published sums: one variable per (month, statement, person).
    variables = sorted({(month, statement, person) for month, rounds in ROUNDS.items()
                        for statements in rounds for statement in statements
                        for person in scorers(scenario, month, statement)})
    index = {variable: n for n, variable in enumerate(variables)}

    def vector(month: date, statement: str, people: set[int]) -> list[int]:
        row = [0] * len(variables)
        for person in people:
            row[index[(month, statement, person)]] = 1
        return row

    known = []
    for month, statement, people, count in figures(scenario, documents):
        assert count == len(people) >= minimum  # the n published is the people behind it
        known.append(vector(month, statement, people))
    for month, statement, _ in {(m, s, 0) for m, s, _ in variables}:
        everyone = sorted(scorers(scenario, month, statement))
        for size in range(1, minimum):
            for group in combinations(everyone, size):
                assert not derivable(known, vector(month, statement, set(group))), (
                    month, statement, group, scenario)


def test_the_scenario_shape_holds_the_anchor_in_every_round(content: Content) -> None:
    for rounds in ROUNDS.values():
        assert all(statements[0] == content.anchor("process") for statements in rounds)


def test_a_database_file_is_made_once(database: str) -> None:
    assert Path(database.removeprefix("sqlite+aiosqlite:///")).exists()

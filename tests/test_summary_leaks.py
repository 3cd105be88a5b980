"""No figure of a small group can be worked out from what the summaries publish.

Random partnerships answer over three months: September from before the anchor model (two
rounds asking two other statements, so the topic is scored on both, each person's mean of
the two), then October and November asking the anchor and a rotating statement. Each
month's summary is exported as JSON, compared with the months before as when frozen.
The test reads only the published documents and knows who answered what: every published
mean with its n is a known linear combination of answers (one person's own mean on one
statement in one month). A small group's sum is exposed exactly when its vector lies in the
span of the published ones, across the months, the topic, its groups (sides, levels and
schools: two vmbo schools, so a school is not its side) and its statements.
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
from bot.store.models import Partnership
from bot.summary import compute_summary, load_summary_rules
from bot.summary.export import summary_document
from bot.summary.model import OPEN_TEXT_MIN
from tests.summary_fakes import NOV, OCT, SEP, Partners

SCHOOLS = {"vmbo": "vmbo", "vmbo2": "vmbo", "mbo": "mbo"}  # key in Partners -> its type
NAMES = {"Vmbo Noorderlicht": "vmbo", "Vmbo Zuid": "vmbo2", "Mbo Vakcollege": "mbo"}
LEVELS = ("board", "management", "teachers")
# Each month two rounds on the process condition: in September (before the anchor model)
# one statement each, then the anchor and one other in turn.
ROUNDS = {SEP: (["process_2"], ["process_3"]),
          OCT: (["process_1", "process_2"], ["process_1", "process_3"]),
          NOV: (["process_1", "process_4"], ["process_1", "process_2"])}
Weights = dict[tuple[date, str, int], float]
answers = st.sampled_from([None, "dk", 1, 2, 3, 4, 5])  # mostly scores, so groups fill


@dataclass(frozen=True)
class Scenario:
    people: list[tuple[str, str]]
    # per month, per round, per statement of the round, per person
    given: dict[date, list[list[list[int | str | None]]]]
    minimum: int


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    people = draw(st.lists(st.tuples(st.sampled_from(list(SCHOOLS)), st.sampled_from(LEVELS)),
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
    """The months' JSON documents, each compared with the ones before as frozen."""
    engine = db.create_engine(url)
    sessions = db.sessionmaker(engine)
    try:
        partners = await Partners.create(sessions)
        await partners.school("vmbo2", "Vmbo Zuid", "vmbo")
        ids = [(await partners.members(key, level, 1))[0] for key, level in scenario.people]
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
            partnership = await session.get(Partnership, partners.partnership.id)
            assert partnership is not None  # as it is now, with its three schools
            for month in ROUNDS:
                summary = await compute_summary(session, content, partnership, month,
                                                earlier=done[-2:],
                                                min_group_size=scenario.minimum)
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


def topic_means(scenario: Scenario, month: date, basis: list[str], people: set[int]
                ) -> Weights:
    """The sum of these people's own means over the statements of `basis` they scored."""
    weights: Weights = {}
    for person in people:
        scored = [s for s in basis if person in scorers(scenario, month, s)]
        for statement in scored:
            weights[(month, statement, person)] = 1 / len(scored)
    return weights


def figures(scenario: Scenario, documents: list[dict[str, Any]]
            ) -> Iterator[tuple[Weights, int, int | None]]:
    """Every published sum: its weights on the answers, how many people are behind it, and
    the n published."""
    for month, document in zip(ROUNDS, documents, strict=True):
        for topic in (*document["conditions"], *document["boards"]):
            if topic["mean"] is not None and topic["id"] != "collaboration":
                basis = topic["score_statements"]
                everyone = set().union(*(scorers(scenario, month, s) for s in basis))
                yield (topic_means(scenario, month, basis, everyone), len(everyone),
                       topic["respondents"])
                school = {str(s["id"]): NAMES[s["name"]] for s in document["schools"]}
                places = {p: (SCHOOLS[scenario.people[p][0]], scenario.people[p][1],
                              scenario.people[p][0]) for p in everyone}
                for kind, groups in ((0, topic["sides"]), (1, topic["levels"]),
                                     (2, topic["schools"])):
                    for group in groups:
                        wanted = school[group["group"]] if kind == 2 else group["group"]
                        mine = {p for p in everyone if places[p][kind] == wanted}
                        yield (topic_means(scenario, month, basis, mine), len(mine),
                               group["respondents"])
            for result in topic["statement_results"]:
                if result["mean"] is not None:
                    people = scorers(scenario, month, result["statement"])
                    yield ({(month, result["statement"], p): 1.0 for p in people}, len(people),
                           result["respondents"])


def derivable(known: list[list[int]], target: list[int]) -> bool:
    if not known:
        return False
    matrix = np.array(known, dtype=float)
    return bool(np.linalg.matrix_rank(np.vstack([matrix, target])) ==
                np.linalg.matrix_rank(matrix))


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(scenario=scenarios())
def test_no_small_group_follows_from_three_months_of_published_json(
    database: str, scenario: Scenario
) -> None:
    minimum = scenario.minimum
    documents = asyncio.run(published(database, load_content(), scenario))

    # Nothing small is even counted: every n shown is at least the minimum.
    for month, document in zip(ROUNDS, documents, strict=True):
        assert "open_answers_withheld" not in document
        for topic in (*document["conditions"], *document["boards"]):
            counts = [topic["respondents"], *(g["respondents"] for g in topic["sides"]),
                      *(g["respondents"] for g in topic["levels"]),
                      *(g["respondents"] for g in topic["schools"]),
                      *(r["respondents"] for r in topic["statement_results"])]
            assert all(n is None or n >= minimum for n in counts), topic
            for result in topic["statement_results"]:
                if result["open_answers"]:
                    people = scorers(scenario, month, result["statement"])
                    assert len(people) >= max(OPEN_TEXT_MIN, minimum)

    # The change and trend of November are made of published numbers only; September was
    # scored on other statements, so October compares with nothing.
    september, october, november = documents
    [first] = [t for t in september["conditions"] if t["id"] == "process"]
    [before] = [t for t in october["conditions"] if t["id"] == "process"]
    [after] = [t for t in november["conditions"] if t["id"] == "process"]
    assert first["score_statements"] == ["process_2", "process_3"]
    assert (before["change"], before["trend"][1]["mean"]) == (None, None)
    assert (before["comparable"], before["compared_with"]) == (False, "2026-09")
    assert after["trend"][1]["mean"] == before["mean"]
    if after["change"] is not None:
        assert after["change"] == round(round(after["mean"], 1) - round(before["mean"], 1), 1)
        assert after["direction"] == ("rising" if after["change"] >= 0.25 else "falling"
                                      if after["change"] <= -0.25 else "stable")
    else:
        assert after["direction"] is None

    # One variable per (month, statement, person): that person's own mean on it.
    variables = sorted({(month, statement, person) for month, rounds in ROUNDS.items()
                        for statements in rounds for statement in statements
                        for person in scorers(scenario, month, statement)})
    index = {variable: n for n, variable in enumerate(variables)}

    def vector(weights: Weights) -> list[float]:
        row = [0.0] * len(variables)
        for variable, weight in weights.items():
            row[index[variable]] = weight
        return row

    known = []
    for weights, people, count in figures(scenario, documents):
        assert count == people >= minimum  # the n published is the people behind it
        known.append(vector(weights))
    small: list[Weights] = []
    for month, rounds in ROUNDS.items():
        for statement in {s for statements in rounds for s in statements}:
            everyone = sorted(scorers(scenario, month, statement))
            small += [{(month, statement, p): 1.0 for p in group}
                      for size in range(1, minimum) for group in combinations(everyone, size)]
    basis = first["score_statements"]  # September: a few people's own means over both
    everyone = sorted(set().union(*(scorers(scenario, SEP, s) for s in basis)))
    small += [topic_means(scenario, SEP, basis, set(group))
              for size in range(1, minimum) for group in combinations(everyone, size)]
    for weights in small:
        assert not derivable(known, vector(weights)), (weights, scenario)


def test_the_scenario_asks_the_anchor_from_october_on(content: Content) -> None:
    assert content.anchor("process") not in {s for r in ROUNDS[SEP] for s in r}
    for month in (OCT, NOV):
        assert all(statements[0] == content.anchor("process") for statements in ROUNDS[month])


def test_a_database_file_is_made_once(database: str) -> None:
    assert Path(database.removeprefix("sqlite+aiosqlite:///")).exists()

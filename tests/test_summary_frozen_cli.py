"""The operator's side of frozen months: `achtje erase`, `achtje member import` and
`achtje retention run` freeze the months that are over before they change anything, so
`achtje summary` shows October as it was; one threshold per partnership, set with `achtje
partnership set`, and no per-call option to vary it; "no figures yet" for early months."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from bot.cli import app
from bot.content import Content
from bot.store import db
from bot.store.models import Member, Partnership
from bot.store.summary import SummaryMonth
from bot.summary import load_summary_rules
from bot.summary.export import summary_document
from bot.summary.frozen import published_summary
from tests.privacy_fakes import traces
from tests.summary_fakes import fill

OCTOBER = date(2026, 10, 1)


def achtje(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Three vmbo teachers who scored in September and October (summary_fakes.fill)."""
    monkeypatch.setenv("ACHTJE_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    monkeypatch.delenv("ACHTJE_CONTENT_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


async def in_db(folder: Path, work: Any) -> Any:
    engine, sessions = await db.connect(f"sqlite+aiosqlite:///{folder / 'a.db'}")
    try:
        async with sessions() as session:
            await session.begin()
            found = await work(session)
            await session.rollback()  # only looking
            return found
    finally:
        await engine.dispose()


def october_now(folder: Path, content: Content, partnership_id: int) -> dict[str, Any]:
    """What October would publish if it were frozen now (nothing is kept)."""

    async def work(session: Any) -> dict[str, Any]:
        partnership = await session.get(Partnership, partnership_id)
        found = await published_summary(session, content, partnership, OCTOBER,
                                        now=datetime.now(UTC))
        assert found is not None
        return summary_document(found, content, load_summary_rules(content))

    return asyncio.run(in_db(folder, work))  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Person:
    id: int
    user_ref: str
    display_name: str


def teachers(folder: Path) -> list[Person]:
    async def work(session: Any) -> list[Person]:
        return [Person(m.id, m.user_ref, m.display_name)
                for m in await session.scalars(select(Member).order_by(Member.id))]

    return asyncio.run(in_db(folder, work))  # type: ignore[no-any-return]


def october_json(partnership: int) -> dict[str, Any]:
    found = achtje("summary", "--partnership", str(partnership), "--month", "2026-10",
                   "--format", "json")
    assert found.exit_code == 0, found.output
    return json.loads(found.stdout)  # type: ignore[no-any-return]


def erase(folder: Path, partnership: int, member: Person) -> None:
    found = achtje("erase", "--member", str(member.id), "--yes")
    assert found.exit_code == 0, found.output


def move_to_the_board(folder: Path, partnership: int, member: Person) -> None:
    csv = folder / "leden.csv"
    csv.write_text("partnership,platform,user,school,level\n"
                   f"{partnership},test,{member.user_ref},Vmbo Noorderlicht,board\n",
                   encoding="utf-8")
    found = achtje("member", "import", str(csv))
    assert (found.exit_code, found.stdout) == (0, "imported 1 members\n"), found.output


def retention(folder: Path, partnership: int, member: Person) -> None:
    found = achtje("retention", "set", "--partnership", str(partnership), "--answer-months", "1")
    assert found.exit_code == 0, found.output
    found = achtje("retention", "run")
    assert found.exit_code == 0 and "answer: 6" in found.stdout, found.output


@pytest.mark.parametrize("change", [erase, move_to_the_board, retention])
def test_october_as_achtje_summary_shows_it_survives_the_operators_commands(
    folder: Path, content: Content, change: Any
) -> None:
    """Nobody asked for October before the command ran: the command itself froze it."""
    partnership = asyncio.run(fill(folder))
    expected = october_now(folder, content, partnership)
    assert expected["conditions"][0]["mean"] == 3.67  # (4 + 4 + 3) / 3
    assert not any(result["open_answers"]  # fewer than 5 people
                   for result in expected["conditions"][0]["statement_results"])
    first = teachers(folder)[0]

    change(folder, partnership, first)

    assert october_json(partnership) == expected
    if change is erase:
        async def scan(session: Any) -> list[str]:
            return await traces(session, first.id, first.user_ref, first.display_name)

        assert asyncio.run(in_db(folder, scan)) == []


def test_one_threshold_per_partnership_and_no_option_to_vary_it(
    folder: Path, content: Content
) -> None:
    partnership = str(asyncio.run(fill(folder)))

    found = achtje("partnership", "set", "--partnership", partnership, "--min-group-size", "2")
    assert found.exit_code == 1
    assert "--min-group-size must be from 3 to 50" in found.output
    assert "nothing changed" in found.output

    async def state(session: Any) -> tuple[int, list[date]]:
        found = await session.get(Partnership, int(partnership))
        return found.min_group_size, list(await session.scalars(select(SummaryMonth.month)))

    assert asyncio.run(in_db(folder, state)) == (3, [])  # nothing changed, nothing frozen

    found = achtje("summary", "--partnership", partnership, "--month", "2026-10",
                   "--min-group-size", "4")
    assert found.exit_code == 2 and "No such option" in found.output

    found = achtje("partnership", "set", "--partnership", partnership, "--min-group-size", "4")
    assert found.exit_code == 0, found.output
    assert "at least 4 (open texts at least 5); closed months keep their threshold" \
        in found.output
    # October was over before the change: frozen at 3, and three teachers still show.
    october = october_json(int(partnership))
    assert (october["min_group_size"], october["conditions"][0]["mean"]) == (3, 3.67)
    assert asyncio.run(in_db(folder, state))[0] == 4


def test_a_month_without_figures_gets_a_short_answer_and_nothing_is_stored(
    folder: Path, content: Content
) -> None:
    partnership = str(asyncio.run(fill(folder)))
    for month, lang, named in (("2026-08", "nl", "augustus 2026"),
                               ("2001-01", "en", "January 2001")):
        found = achtje("summary", "--partnership", partnership, "--month", month,
                       "--lang", lang, "--format", "json")
        assert (found.exit_code, found.stdout) == (1, "")
        assert found.stderr.strip() == content.text("summary_no_figures", lang, month=named)

    async def stored(session: Any) -> list[date]:
        return list(await session.scalars(select(SummaryMonth.month)))

    assert asyncio.run(in_db(folder, stored)) == []

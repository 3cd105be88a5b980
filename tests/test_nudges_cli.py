"""`achtje nudge preview` and `achtje nudge settings`, as an operator runs them.

The typer app is invoked in-process (CliRunner) on a SQLite file: the same code path as
the installed command, without a slow interpreter start per call.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from bot.cli import app

MEMBERS = """partnership,platform,user,name,school,level,role,language
1,console,u1,Anna,De Brug,teachers,member,nl
1,console,u2,Bram,Kompas,teachers,member,nl
1,console,u3,Cas,De Brug,board,member,en
1,console,u4,Dirk,Kompas,board,member,nl
1,console,u5,Eva,De Brug,teachers,member,nl
"""


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "a.db"
    monkeypatch.setenv("ACHTJE_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    monkeypatch.chdir(tmp_path)
    assert achtje("partnership", "create", "--name", "Regio", "--school", "De Brug:vmbo",
                  "--school", "Kompas:mbo").output.strip() == "1"
    (tmp_path / "members.csv").write_text(MEMBERS, encoding="utf-8")
    assert achtje("member", "import", "members.csv").exit_code == 0
    return path


def achtje(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def rounds_stored(path: Path) -> int:
    with closing(sqlite3.connect(path)) as connection:
        return int(connection.execute("SELECT count(*) FROM nudge_round").fetchone()[0])


def test_preview_prints_the_next_pairs_and_stores_nothing(database: Path) -> None:
    result = achtje("nudge", "preview", "--partnership", "1")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("partnership 1 Regio: next round 1 (seed ")
    assert "2 groups, levels counterparts" in lines[0]
    groups = [line for line in lines[1:] if " + " in line]
    assert len(groups) == 2
    for name in ("Anna", "Bram", "Cas", "Dirk", "Eva"):
        assert sum(name in line for line in groups) == 1
    assert all("De Brug" in line and "Kompas" in line for line in groups)  # across schools
    assert rounds_stored(database) == 0
    # The same members and history give the same preview.
    assert achtje("nudge", "preview", "--partnership", "1").output == result.output


def test_settings_change_what_the_preview_says(database: Path) -> None:
    result = achtje("nudge", "settings", "--partnership", "1", "--off", "--names",
                    "--max-minutes", "30")
    assert result.output.strip() == (
        "nudges off, separate buildings, ideas up to 30 minutes, counterparts, "
        "names in the channel")
    shown = achtje("nudge", "settings", "--partnership", "1").output.strip()
    assert shown.startswith("nudges off,")
    preview = achtje("nudge", "preview", "--partnership", "1").output.splitlines()
    assert preview[0].endswith("nudges are OFF for this partnership")
    minutes = [int(line.split(" (")[-1].split(" min")[0]) for line in preview[1:]
               if " min)" in line]
    assert len(minutes) == 2 and all(m <= 30 for m in minutes)


def test_an_unknown_partnership_is_a_clear_error(database: Path) -> None:
    result = CliRunner().invoke(app, ["nudge", "preview", "--partnership", "7"])
    assert result.exit_code == 1
    assert "no partnership with id 7" in result.output


def test_schedule_set_and_nudge_settings_are_one_switch(database: Path) -> None:
    """`schedule set --no-nudges` and `nudge settings --off` change the same setting; the
    schedule keeps saying when nudges would go."""
    saved = achtje("schedule", "set", "--partnership", "1", "--no-nudges")
    assert saved.exit_code == 0, saved.output
    nudge_line = next(line for line in saved.output.splitlines() if "nudge " in line)
    assert nudge_line.endswith("(off)")
    assert achtje("nudge", "settings", "--partnership", "1").output.startswith("nudges off,")
    assert achtje("nudge", "preview", "--partnership", "1").output.splitlines()[0].endswith(
        "nudges are OFF for this partnership")

    assert achtje("nudge", "settings", "--partnership", "1", "--on").exit_code == 0
    again = achtje("schedule", "set", "--partnership", "1", "--nudge-cadence-weeks", "3")
    nudge_line = next(line for line in again.output.splitlines() if "nudge " in line)
    assert not nudge_line.endswith("(off)") and nudge_line.split()[1] != "-"
    preview = achtje("schedule", "preview", "--partnership", "1", "--weeks", "6")
    assert "de koffiekoppels staan uit" not in preview.output
    assert achtje("schedule", "set", "--partnership", "1", "--no-nudges").exit_code == 0
    preview = achtje("schedule", "preview", "--partnership", "1", "--weeks", "6")
    assert "de koffiekoppels staan uit" in preview.output

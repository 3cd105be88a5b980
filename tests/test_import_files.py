"""`achtje member import` takes the files people have: the CSV Dutch Excel writes (semicolons,
Windows-1252), CSV UTF-8 with a byte order mark, Excel's Unicode text (UTF-16, tabs) and an
Excel workbook (.xlsx), made here the way Excel makes them; what it cannot read is refused
with a message that says what to do, and nothing is imported."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import typer
from openpyxl import Workbook
from sqlalchemy import select
from typer.testing import CliRunner

from bot.cli import app
from bot.demo import create_demo_partnership
from bot.partnerships_cli import read_member_csv
from bot.store import db
from bot.store.models import Member
from tests.test_offboard import NOW

HEADER = ["partnership", "platform", "user", "name", "school", "level", "role", "language"]
PEOPLE = [["1", "slack", "T1:U1", "Zeynep Öztürk", "Vmbo De Brug", "teachers", "member", "nl"],
          ["1", "telegram", "123456789", "Renée Smit-Ĳzer", "Mbo College Kompas",
           "management", "leader", "en"]]
# Windows-1252 has no Ĳ: Excel writes such a file with a plain IJ.
CP1252_PEOPLE = [[cell.replace("Ĳ", "IJ") for cell in row] for row in PEOPLE]


def csv_text(rows: list[list[str]], separator: str) -> str:
    return "".join(separator.join(row) + "\r\n" for row in [HEADER, *rows])


def workbook(path: Path, telegram_id: object) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    sheet.append(PEOPLE[0])
    sheet.append([1, "telegram", telegram_id, *PEOPLE[1][3:]])  # numbers, as Excel keeps them
    sheet.append([None] * len(HEADER))  # an empty row in between
    book.save(path)
    return path


@pytest.mark.parametrize(("name", "data", "expected"), [
    ("excel-nl.csv", csv_text(CP1252_PEOPLE, ";").encode("cp1252"), CP1252_PEOPLE),
    ("utf8-bom.csv", b"\xef\xbb\xbf" + csv_text(PEOPLE, ";").encode("utf-8"), PEOPLE),
    ("plain.csv", csv_text(PEOPLE, ",").encode("utf-8"), PEOPLE),
    ("unicode.txt", csv_text(PEOPLE, "\t").encode("utf-16"), PEOPLE),
])
def test_csv_files_as_excel_writes_them(tmp_path: Path, name: str, data: bytes,
                                        expected: list[list[str]]) -> None:
    file = tmp_path / name
    file.write_bytes(data)
    assert [list(row.values()) for row in read_member_csv(file)] == expected


@pytest.mark.parametrize("telegram_id", [123456789, 123456789.0, "123456789"])
def test_an_excel_workbook(tmp_path: Path, telegram_id: object) -> None:
    file = workbook(tmp_path / "leden.xlsx", telegram_id)
    assert [list(row.values()) for row in read_member_csv(file)] == PEOPLE


@pytest.mark.parametrize(("data", "says"), [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), ".xlsx"),  # an old .xls
    (b"PK\x03\x04" + bytes(100), "not an Excel workbook"),
    (csv_text(PEOPLE, ";").encode("utf-8").replace(b"\xc3\x96", b"\x81"), "Windows-1252"),
])
def test_what_cannot_be_read_is_refused_saying_what_to_do(
        tmp_path: Path, data: bytes, says: str, capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "leden.xlsx"
    file.write_bytes(data)
    with pytest.raises(typer.Exit):
        read_member_csv(file)
    assert says in capsys.readouterr().err


async def test_importing_a_workbook(database_url: str, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    engine, sessions = await db.connect(database_url)
    async with sessions() as session, session.begin():
        partnership = await create_demo_partnership(session, NOW, "test", "g-1")
    assert partnership.id == 1
    monkeypatch.setenv("ACHTJE_DATABASE_URL", database_url)
    monkeypatch.delenv("ACHTJE_LOG_LEVEL", raising=False)
    file = workbook(tmp_path / "leden.xlsx", 123456789.0)
    done = await asyncio.to_thread(CliRunner().invoke, app, ["member", "import", str(file)])
    assert done.exit_code == 0, done.output
    assert "imported 2 members" in done.output
    async with sessions() as session:
        found = list(await session.execute(
            select(Member.platform, Member.user_ref, Member.display_name, Member.role)
            .order_by(Member.id)))
    await engine.dispose()
    assert [tuple(row) for row in found] == [
        ("slack", "T1:U1", "Zeynep Öztürk", "member"),
        ("telegram", "123456789", "Renée Smit-Ĳzer", "leader")]

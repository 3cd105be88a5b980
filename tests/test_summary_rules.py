"""The editable summary files as a content editor meets them, and `achtje summary` as an
operator runs it."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.content import Content, ContentError, default_dir
from bot.store import db
from bot.summary import load_summary_rules
from tests.summary_fakes import NOV, OCT, Partners, png_size

ACHTJE = Path(sys.executable).with_name("achtje")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A private copy of the shipped content that a test may break."""
    target = tmp_path / "content"
    shutil.copytree(default_dir(), target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def edit(path: Path, change: Any) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_the_shipped_rules_load_and_cover_every_pitfall(content: Content) -> None:
    rules = load_summary_rules(content)
    assert {rule.pitfall for rule in rules.signals.pitfalls} == {p.id for p in content.pitfalls}
    assert rules.thresholds.school_gap == 1.0
    assert len(rules.agenda.general) >= 3


@pytest.mark.parametrize(("filename", "change", "expected"), [
    ("summary_rules.yaml", lambda d: d["summary_rules"]["thresholds"].update(low="laag"),
     "thresholds.low"),
    ("summary_rules.yaml", lambda d: d["summary_rules"]["pitfalls"][1]["when"][0].update(
        signal="sad"), "pitfalls.1.when.0.signal"),
    ("summary_rules.yaml", lambda d: d["summary_rules"]["pitfalls"][0]["when"][0].pop(
        "condition"), "pitfalls.0.when.0: Value error, school_gap needs a condition"),
    ("summary_rules.yaml", lambda d: d["summary_rules"]["pitfalls"][2].update(
        pitfall="talking_club"), "pitfalls.2.pitfall: unknown pitfall 'talking_club'"),
    ("summary_agenda.yaml", lambda d: d["agenda"]["conditions"].pop("process"),
     "conditions.process: a question is missing"),
    ("summary_agenda.yaml", lambda d: d["agenda"]["general"][0].pop("en"), "general.0.en"),
])
def test_a_broken_rules_file_names_file_and_field(
    content: Content, folder: Path, filename: str, change: Any, expected: str
) -> None:
    edit(folder / filename, lambda data: change(data))
    with pytest.raises(ContentError) as caught:
        load_summary_rules(content, folder)
    message = str(caught.value)
    assert str(folder / filename) in message
    assert expected in message


def test_a_missing_or_unreadable_rules_file_says_so(content: Content, folder: Path) -> None:
    (folder / "summary_rules.yaml").unlink()
    with pytest.raises(ContentError, match=r"summary_rules\.yaml: file is missing"):
        load_summary_rules(content, folder)
    (folder / "summary_rules.yaml").write_text("summary_rules: [\n", encoding="utf-8")
    with pytest.raises(ContentError, match=r"summary_rules\.yaml: not valid YAML"):
        load_summary_rules(content, folder)


# The command line


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("SLACK_", "TELEGRAM_", "ACHTJE_"))}
    return {**env, "ACHTJE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'a.db'}", **extra}


def achtje(tmp_path: Path, *runs: tuple[list[str], dict[str, str]]) -> list[tuple[int, str, str]]:
    """Run `achtje ARGS` once per (args, extra environment), side by side; they only read."""
    started = [subprocess.Popen([str(ACHTJE), *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                                env=environment(tmp_path, **extra))
               for args, extra in runs]
    results = []
    for process in started:
        stdout, stderr = process.communicate(timeout=60)
        results.append((process.returncode, stdout, stderr))
    return results


async def fill(url: str) -> int:
    engine, sessions = await db.connect(url)
    try:
        partners = await Partners.create(sessions, "Leerlab Oost")
        people = await partners.members("vmbo", "teachers", 3)
        for day, scores in ((OCT, [2, 3, 3]), (NOV, [4, 4, 3])):
            round_id = await partners.round(day, ["ambition_1", "interests_1"])
            await partners.answer(round_id, "ambition_1", people, scores)
        return partners.partnership.id
    finally:
        await engine.dispose()


def test_the_summary_command_prints_the_month_and_writes_the_chart(
    tmp_path: Path, folder: Path
) -> None:
    partnership = asyncio.run(fill(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"))
    edit(folder / "summary_rules.yaml",
         lambda d: d["summary_rules"]["thresholds"].update(few_informal=2))
    chart = tmp_path / "chart.png"
    good, bad_month, no_partnership, broken = achtje(
        tmp_path,
        (["summary", "--partnership", str(partnership), "--month", "2026-11", "--png",
          str(chart), "--lang", "en"], {}),
        (["summary", "--partnership", str(partnership), "--month", "november"], {}),
        (["summary", "--partnership", "99", "--month", "2026-11"], {}),
        (["summary", "--partnership", str(partnership)], {"ACHTJE_CONTENT_DIR": str(folder)}),
    )
    code, stdout, stderr = good
    assert code == 0, stderr
    assert "Leerlab Oost, 2026-11: 3 of 3 members took part (100%)" in stdout
    assert "Shared ambition: 3.7 (n=3), +1.0 since last month" in stdout
    assert "Doing justice to interests: too few answers to show (n=0, at least 3)" in stdout
    assert "For the agenda of the next meeting" in stdout
    assert png_size(chart.read_bytes()) == (1000, 800)

    for (code, _, stderr), phrase in (
        (bad_month, "--month must look like 2026-11"),
        (no_partnership, "no partnership with id 99"),
        (broken, "summary_rules.yaml: thresholds.few_informal"),
    ):
        assert code == 1 and phrase in stderr, stderr
        assert "Traceback" not in stderr

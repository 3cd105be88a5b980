"""The editable summary files as a content editor meets them, and `achtje summary` as an
operator runs it."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.content import Content, ContentError, default_dir
from bot.summary import load_summary_rules
from tests.summary_fakes import achtje, fill


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


def test_the_summary_command_reads_the_rules_of_the_content_folder(
    tmp_path: Path, folder: Path
) -> None:
    partnership = asyncio.run(fill(tmp_path))
    edit(folder / "summary_rules.yaml",
         lambda d: d["summary_rules"]["thresholds"].update(low=4.5))
    own, = achtje(tmp_path, (["summary", "--partnership", str(partnership), "--month",
                              "2026-10"], {"ACHTJE_CONTENT_DIR": str(folder)}))
    code, stdout, stderr = own
    assert code == 0, stderr
    # Shared ambition at 3.7 is low by this folder's rules only.
    assert "Spraakverwarring (Gedeelde ambitie), omdat Gedeelde ambitie laag scoort (3,7)" \
        in stdout.decode()

    edit(folder / "summary_rules.yaml",
         lambda d: d["summary_rules"]["thresholds"].update(few_informal=2))
    for code, _, stderr in achtje(
        tmp_path,
        (["summary", "--partnership", str(partnership)], {"ACHTJE_CONTENT_DIR": str(folder)}),
        (["run"], {"ACHTJE_CONTENT_DIR": str(folder)}),  # checked when the bot starts
    ):
        assert code == 1, stderr
        assert "summary_rules.yaml: thresholds.few_informal" in stderr
        assert "Traceback" not in stderr

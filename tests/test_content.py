"""What a content editor checks: the shipped words load, and mistakes are reported clearly."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.content import Content, ContentError, default_dir, load_content
from bot.domain import CONDITION_IDS


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    """A private copy of the shipped content that a test may break."""
    target = tmp_path / "content"
    shutil.copytree(default_dir(), target)
    return target


def _read(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _write(path: Path, data: Any) -> None:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


# 1. The shipped content


def test_shipped_content_loads() -> None:
    content = load_content()
    assert tuple(c.id for c in content.conditions) == CONDITION_IDS
    assert [c.number for c in content.conditions] == [1, 2, 3, 4, 5]
    assert [d.id for d in content.domains] == ["content", "collaboration", "anchoring"]
    assert len(content.pitfalls) == 5
    assert len(content.ideas) >= 24


def test_every_condition_has_enough_statements_and_followups() -> None:
    content = load_content()
    for condition in content.conditions:
        assert len(condition.statements) >= 4, condition.id
    questions = [s.followup for s in content.all_statements()]
    assert all(q.nl.endswith("?") and q.en.endswith("?") for q in questions)
    assert len({q.nl for q in questions}) == len(questions)  # each fits its own statement


def test_statements_are_written_in_both_languages() -> None:
    for statement in load_content().all_statements():
        assert statement.text.nl != statement.text.en, statement.id


def test_statement_ids_are_unique_and_findable() -> None:
    content = load_content()
    ids = [s.id for s in content.all_statements()]
    assert len(ids) == len(set(ids))
    for statement_id in ids:
        assert content.statement(statement_id).id == statement_id
        assert statement_id.startswith(content.topic_of(statement_id) + "_")


def test_ideas_cover_every_setting() -> None:
    settings = [idea.setting for idea in load_content().ideas]
    for setting in ("remote", "same_building", "nearby"):
        assert settings.count(setting) >= 5, setting


# 2. A schema mistake names the file and the field


def test_missing_field_names_file_and_field(content_copy: Path) -> None:
    path = content_copy / "pitfalls.yaml"
    data = _read(path)
    del data["pitfalls"][1]["success_factors"]
    _write(path, data)

    with pytest.raises(ContentError) as info:
        load_content(content_copy)
    message = str(info.value)
    assert str(path) in message
    assert "pitfalls.1.success_factors" in message


def test_number_instead_of_text_names_file_and_field(content_copy: Path) -> None:
    path = content_copy / "conditions.yaml"
    data = _read(path)
    data["conditions"][0]["statements"][2]["text"]["nl"] = 42
    _write(path, data)

    with pytest.raises(ContentError) as info:
        load_content(content_copy)
    message = str(info.value)
    assert str(path) in message
    assert "conditions.0.statements.2.text.nl" in message


def test_a_statement_without_its_follow_up_names_file_and_field(content_copy: Path) -> None:
    path = content_copy / "domains.yaml"
    data = _read(path)
    del data["domains"][2]["statements"][1]["followup"]
    _write(path, data)

    with pytest.raises(ContentError) as info:
        load_content(content_copy)
    assert f"{path}: domains.2.statements.1.followup: Field required" in str(info.value)


# 3. Broken YAML


def test_invalid_yaml_names_the_file(content_copy: Path) -> None:
    path = content_copy / "ideas.yaml"
    path.write_text("ideas:\n  - id: [unclosed\n    text: {nl: x\n", encoding="utf-8")

    with pytest.raises(ContentError) as info:
        load_content(content_copy)
    assert str(path) in str(info.value)


# 4. A missing file


def test_missing_file_names_the_file(content_copy: Path) -> None:
    path = content_copy / "talk_plate.yaml"
    path.unlink()

    with pytest.raises(ContentError) as info:
        load_content(content_copy)
    assert str(path) in str(info.value)


# 5. Duplicate statement ids


def test_duplicate_statement_id_is_reported(content_copy: Path) -> None:
    path = content_copy / "domains.yaml"
    data = _read(path)
    anchoring = next(d for d in data["domains"] if d["id"] == "anchoring")
    anchoring["statements"][0]["id"] = "ambition_1"
    _write(path, data)

    with pytest.raises(ContentError) as info:
        load_content(content_copy)
    assert "ambition_1" in str(info.value)


# 6. UI placeholders must match between the languages


def test_ui_placeholders_must_match(content_copy: Path) -> None:
    path = content_copy / "ui.yaml"
    path.write_text('ui: {x: {nl: "Hoi {name}", en: "Hi"}}\n', encoding="utf-8")

    with pytest.raises(ContentError) as info:
        load_content(content_copy)
    message = str(info.value)
    assert str(path) in message
    assert "name" in message


def test_ui_matching_placeholders_load(content_copy: Path) -> None:
    path = content_copy / "ui.yaml"
    path.write_text('ui: {x: {nl: "Hoi {name}", en: "Hi {name}"}}\n', encoding="utf-8")

    content = load_content(content_copy)
    assert content.text("x", "en", name="Sam") == "Hi Sam"


def test_a_count_takes_the_singular_after_one_and_dates_are_written_out(
    content: Content
) -> None:
    assert content.text("pause_weeks", "nl", weeks=1) == "1 week"
    assert content.text("pause_weeks", "nl", weeks=3) == "3 weken"
    assert content.text("pause_weeks", "en", weeks=1) == "1 week"
    assert content.text("reflection_result_title", "nl", number=2, count=1) == \
        "Uitslag reflectiesessie 2 (1 deelnemer):"
    assert "(1 bericht)" in content.text("privacy_export_intro", "nl", parts=1)
    assert "(2 messages)" in content.text("privacy_export_intro", "en", parts=2)
    assert content.day(date(2026, 12, 10), "nl") == "10 december 2026"
    assert content.day(date(2026, 12, 10), "en") == "10 December 2026"
    assert content.month_name(date(2026, 11, 1), "nl") == "november 2026"
    assert content.decimal(3.66, "nl") == "3,7" and content.decimal(3.66, "en") == "3.7"

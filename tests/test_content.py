"""What a content editor checks: the shipped words load, and mistakes are reported clearly."""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.content import Content, ContentError, default_dir, load_content
from bot.domain import CONDITION_IDS
from bot.wording import decimal_mistakes, plural_mistakes, source_runs, wording_mistakes


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
    assert content.day(date(2026, 12, 10), "nl", year=False) == "10 december"
    at = datetime(2026, 11, 25, 8, 0)
    assert content.moment(at, "nl") == "woensdag 25 november 2026 om 08:00"
    assert content.moment(at, "en", year=False) == "Wednesday 25 November at 08:00"
    assert content.moment(at, "nl", weekday="short") == "wo 25 november 2026 08:00"
    assert content.moment(at, "en", weekday="none") == "25 November 2026 08:00"
    assert content.text("checkin_intro", "nl", count=1).startswith("Check-in: 1 korte stelling.")
    assert content.text("poll_closed_shown", "en", count=2, minimum=3).endswith(
        "at least 3 more votes come in, so nobody's choice can be worked out.")


# 7. Wording: counted words, decimal commas, the sources' sentences

SOURCES = Path(__file__).resolve().parents[2] / "shared" / "seeds"


def test_shipped_content_has_no_wording_mistakes(content: Content) -> None:
    assert wording_mistakes(content) == []


@pytest.mark.skipif(not SOURCES.is_dir(), reason="the source texts are not on this machine")
def test_no_ten_words_in_a_row_come_from_the_sources(content: Content) -> None:
    assert list(source_runs(content, SOURCES)) == []


def test_a_counted_word_without_its_singular_is_found(content_copy: Path) -> None:
    (content_copy / "ui_extra.yaml").write_text(
        "ui:\n"
        '  a: {nl: "Nog {count} weken", en: "{count} weeks to go"}\n'
        '  b: {nl: "{total} korte vragen", en: "{total} short questions"}\n'
        '  c: {nl: "{rounds} keer koppelen", en: "{rounds} pairing rounds"}\n'
        '  d: {nl: "{minimum} mensen", en: "{minimum} people"}\n'
        '  e: {nl: "{name} is er", en: "{name} has gone"}\n'
        '  f: {nl: "{count} van {members} lid|leden", en: "{count} of {members} member|members"}\n'
        '  g: {nl: "{hours} uur", en: "{hours} hour|hours"}\n',
        encoding="utf-8")
    found = "\n".join(plural_mistakes(load_content(content_copy)))
    for wrong in ("ui.a.nl: '{count} weken'", "ui.a.en: '{count} weeks", "ui.b.nl",
                  "ui.b.en", "ui.c.en", "ui.d.nl", "ui.d.en"):
        assert wrong in found
    for right in ("ui.c.nl", "ui.e.", "ui.f.", "ui.g."):
        assert right not in found


def test_a_decimal_point_in_dutch_is_found(content_copy: Path) -> None:
    (content_copy / "ui_extra.yaml").write_text(
        'ui: {x: {nl: "gemiddeld 3.7", en: "on average 3.7"}}\n', encoding="utf-8")
    assert list(decimal_mistakes(load_content(content_copy))) == [
        "ui.x.nl: a decimal point in Dutch, write a comma: 'gemiddeld 3.7'"]


def test_ten_words_from_a_source_are_found_and_nine_are_not(
    content: Content, tmp_path: Path
) -> None:
    words = content.complexities[0].description.nl.split()
    (tmp_path / "a.txt").write_text("Elders: " + " ".join(words[3:12]) + ".", encoding="utf-8")
    assert list(source_runs(content, tmp_path)) == []
    (tmp_path / "b.txt").write_text(" ".join(words[3:13]).upper(), encoding="utf-8")
    assert [m.split(":")[0] for m in source_runs(content, tmp_path)] == [
        "complexities.0.description.nl"]

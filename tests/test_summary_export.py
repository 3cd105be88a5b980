"""A summary to keep: the JSON document against the schema documented in docs/summary.md,
the self-contained HTML page, and `achtje summary --format` as an operator runs it."""

from __future__ import annotations

import asyncio
import base64
import json
import re
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from sqlalchemy.ext.asyncio import async_sessionmaker
from typer.testing import CliRunner, Result

from bot.cli import app
from bot.content import Content
from bot.months import shift_month
from bot.store.models import Partnership
from bot.summary import Summary, compute_summary, load_summary_rules
from bot.summary.chart import summary_chart
from bot.summary.export import SCHEMA_VERSION, summary_document, summary_page
from tests.summary_fakes import NOV, OCT, Partners, fill, nudge_numbers, png_size

DOCS = Path(__file__).parents[1] / "docs" / "summary.md"
ATTACK = "<script>alert('hoi')</script> & \"meer\""
NAME = 'Leerlab <b>"Zuid"</b> & Oost'


def documented_schema() -> dict[str, Any]:
    """The JSON Schema in docs/summary.md: its one ```json block with a "$schema"."""
    blocks = re.findall(r"```json\n(.*?)\n```", DOCS.read_text(encoding="utf-8"), re.S)
    [schema] = [json.loads(block) for block in blocks if '"$schema"' in block]
    return schema


def validator() -> Draft202012Validator:
    schema = documented_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


async def nine_people(sessions: async_sessionmaker[Any]) -> Partners:
    """Three on the vmbo board, three vmbo and three mbo teachers. Organisation falls from
    4.0 in October to 3.3 in November, with the board far above the teachers; ambition has
    a "don't know"; only two scored interests; six left an open answer on organisation."""
    partners = await Partners.create(sessions, NAME)
    people = [*await partners.members("vmbo", "board", 3),
              *await partners.members("vmbo", "teachers", 3),
              *await partners.members("mbo", "teachers", 3)]
    october = await partners.round(OCT, ["organisation_1"])
    await partners.answer(october, "organisation_1", people, [4] * 9)
    november = await partners.round(NOV, ["organisation_1", "ambition_1", "interests_1"])
    await partners.answer(november, "organisation_1", people, [5, 5, 4, 3, 3, 3, 2, 2, 3],
                          [ATTACK, "Een vaste dag", None, "Tijd", None, "Roosters", None,
                           "Samen plannen", None])
    await partners.answer(november, "ambition_1", people, [4, 4, "dk", 4, 4, 4, 3, 3, 3])
    await partners.answer(november, "interests_1", people[:2], [2, 2])
    return partners


async def summary_of(sessions: async_sessionmaker[Any], content: Content, partners: Partners,
                     month: date = NOV, **options: Any) -> Summary:
    """The month compared with the two before it, summarised first as they would be frozen."""
    async with sessions() as session:
        partnership = await session.get(Partnership, partners.partnership.id)
        assert partnership is not None
        # The two months before as they would have been frozen: the trend comes from them.
        same = {key: value for key, value in options.items() if key != "nudges"}
        earlier = [await compute_summary(session, content, partnership,
                                         shift_month(month, -n), **same) for n in (2, 1)]
        return await compute_summary(session, content, partnership, month, earlier=earlier,
                                     **options)


def test_the_documented_schema_is_a_json_schema_of_this_version() -> None:
    schema = documented_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["properties"]["schema_version"] == {
        "const": SCHEMA_VERSION, "description": schema["properties"]["schema_version"][
            "description"]}
    # Every field is described and required, so a change shows up here and in the docs.
    assert set(schema["required"]) == set(schema["properties"])
    topic = schema["$defs"]["topic"]
    assert set(topic["required"]) == set(topic["properties"])


async def test_the_json_document_follows_the_schema_and_names_nobody(
    sessions: async_sessionmaker[Any], content: Content
) -> None:
    partners = await nine_people(sessions)
    rules = load_summary_rules(content)
    summary = await summary_of(sessions, content, partners, nudges=nudge_numbers(2, 10, 3, 2))
    document = summary_document(summary, content, rules)
    validator().validate(document)
    assert json.loads(json.dumps(document)) == document

    assert (document["schema_version"], document["month"]) == (2, "2026-11")
    assert document["partnership"] == {"id": partners.partnership.id, "name": NAME}
    assert (document["members"], document["respondents"], document["response_rate"]) == \
        (9, 9, 100)
    assert document["rounds"] == [{"number": 2, "opened_on": "2026-11-03",
                                   "closed_on": "2026-11-10", "respondents": 9, "members": 9}]
    conditions = {topic["id"]: topic for topic in document["conditions"]}
    assert list(conditions) == ["ambition", "interests", "relations", "organisation", "process"]
    organisation = conditions["organisation"]
    # The change is between the means as shown: 3.3 - 4.0.
    assert organisation["mean"] == 3.33 and organisation["change"] == -0.7
    assert (organisation["compared_with"], organisation["comparable"]) == ("2026-10", True)
    assert organisation["score_statements"] == ["organisation_1"]
    assert organisation["distribution"] == [0, 2, 4, 1, 2]
    assert organisation["trend"] == [{"month": "2026-09", "mean": None},
                                     {"month": "2026-10", "mean": 4.0},
                                     {"month": "2026-11", "mean": 3.33}]
    assert organisation["direction"] == "falling"
    assert organisation["sides"] == [{"group": "vmbo", "respondents": 6, "mean": 3.83},
                                     {"group": "mbo", "respondents": 3, "mean": 2.33}]
    assert organisation["levels"] == [{"group": "board", "respondents": 3, "mean": 4.67},
                                      {"group": "teachers", "respondents": 6, "mean": 2.67}]
    # One vmbo school and one mbo college: each school is its side, listed by id and name.
    schools = {s["type"]: s for s in document["schools"]}
    assert {s["name"] for s in document["schools"]} == {"Vmbo Noorderlicht", "Mbo Vakcollege"}
    assert organisation["schools"] == [
        {"group": str(schools[side]["id"]), "respondents": g["respondents"], "mean": g["mean"]}
        for side, g in zip(("vmbo", "mbo"), organisation["sides"], strict=True)]
    assert organisation["statement_results"] == [{
        "statement": "organisation_1", "anchor": True, "respondents": 9, "mean": 3.33,
        "open_answers": [ATTACK, "Een vaste dag", "Roosters", "Samen plannen", "Tijd"]}]
    assert (conditions["ambition"]["respondents"], conditions["ambition"]["dont_know"]) == (8, 1)
    # Two scored interests: nothing of it shows, not their number, not their open answers.
    assert conditions["interests"] == {
        "id": "interests", "respondents": None, "mean": None, "distribution": None,
        "dont_know": None, "score_statements": ["interests_1"], "change": None,
        "compared_with": None, "comparable": True, "direction": None,
        "statements": ["interests_1"], "sides": [], "levels": [], "schools": [],
        "statement_results": [
            {"statement": "interests_1", "anchor": True, "respondents": None, "mean": None,
             "open_answers": []}],
        "trend": [{"month": month, "mean": None} for month in ("2026-09", "2026-10", "2026-11")]}
    assert "open_answers_withheld" not in document
    assert [board["id"] for board in document["boards"]] == [
        "content", "collaboration", "anchoring"]
    [losing] = [s for s in document["pitfall_signals"] if s["pitfall"] == "losing_the_board"]
    assert losing == {"pitfall": "losing_the_board", "condition": "organisation", "reasons": [
        {"signal": "level_gap", "condition": "organisation", "value": 2.0}]}
    assert document["informal_contact"] == {"rounds": 2, "people_paired": 10, "people_met": 3,
                                            "people_met_cross_school": 2}
    first = document["agenda"][0]
    assert first["question"] == rules.agenda.question(first["source"], first["ref"]).model_dump()

    text = json.dumps(document, ensure_ascii=False)
    assert not re.search(r"Persoon\d|\"u\d+\"|\d{4}-\d\d-\d\dT|\d\d:\d\d", text)


async def test_few_paired_people_and_an_empty_month_still_follow_the_schema(
    sessions: async_sessionmaker[Any], content: Content
) -> None:
    partners = await nine_people(sessions)
    rules = load_summary_rules(content)
    few = summary_document(await summary_of(sessions, content, partners,
                                            nudges=nudge_numbers(1, 2, 2, 2)), content, rules)
    validator().validate(few)
    assert few["informal_contact"] == {"rounds": 1, "people_paired": None, "people_met": None,
                                       "people_met_cross_school": None}
    empty = summary_document(await summary_of(sessions, content, partners, date(2026, 6, 1)),
                             content, rules)
    validator().validate(empty)
    assert (empty["rounds"], empty["pitfall_signals"], empty["informal_contact"]) == ([], [], None)
    assert [q["source"] for q in empty["agenda"]] == ["general"] * 3


class Tags(HTMLParser):
    """The elements of a page, checked to close in order (void elements need not)."""

    VOID = frozenset({"meta", "img", "br", "link"})

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.seen: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open.pop() == tag


@pytest.mark.parametrize(("lang", "heading"), [("nl", "Voor de agenda"), ("en", "For the agenda")])
async def test_the_html_page_holds_everything_and_escapes_every_text(
    sessions: async_sessionmaker[Any], content: Content, lang: str, heading: str
) -> None:
    partners = await nine_people(sessions)
    rules = load_summary_rules(content)
    summary = await summary_of(sessions, content, partners)
    page = summary_page(summary, content, rules, lang, summary_chart(summary, content, lang))

    assert page.startswith("<!DOCTYPE html>\n<html lang=\"" + lang + "\">")
    assert "<script" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(&#x27;hoi&#x27;)&lt;/script&gt; &amp; &quot;meer&quot;" in page
    month = content.month_name(date(2026, 11, 1), lang)
    assert f"<title>Leerlab &lt;b&gt;&quot;Zuid&quot;&lt;/b&gt; &amp; Oost, {month}:" in page
    assert f"<h2>{heading}" in page
    tags = Tags()
    tags.feed(page)
    tags.close()
    assert tags.open == []
    sources = [attrs.get("src") or attrs.get("href") for _, attrs in tags.seen
               if "src" in attrs or "href" in attrs]
    [image] = sources  # one embedded chart, nothing fetched from elsewhere
    assert image is not None and image.startswith("data:image/png;base64,")
    assert png_size(base64.b64decode(image.split(",", 1)[1])) == (1000, 800)

    short = summary_page(summary, content, rules, lang, None, short=True)
    assert "<img" not in short and "Een vaste dag" not in short and f"<h2>{heading}" in short


def test_achtje_summary_writes_each_format_and_explains_mistakes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: Content
) -> None:
    partnership = str(asyncio.run(fill(tmp_path, NAME, ATTACK)))
    monkeypatch.setenv("ACHTJE_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    monkeypatch.delenv("ACHTJE_CONTENT_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    page = tmp_path / "overzicht.html"
    month = ["--partnership", partnership, "--month", "2026-10"]

    def achtje(*args: str) -> Result:
        return CliRunner().invoke(app, ["summary", *args], catch_exceptions=False)

    found = achtje(*month, "--format", "json")
    assert found.exit_code == 0, found.output
    document = json.loads(found.stdout)
    validator().validate(document)
    assert document["partnership"]["name"] == NAME
    assert document["conditions"][0]["mean"] == 3.67
    assert document["informal_contact"]["rounds"] == 0  # as a project leader gets it

    found = achtje(*month, "--format", "html", "--output", str(page), "--lang", "en")
    assert (found.exit_code, found.stdout) == (0, ""), found.output
    assert f"written to {page}" in found.stderr
    html = page.read_text(encoding="utf-8")
    assert html.startswith('<!DOCTYPE html>\n<html lang="en">')
    assert "Shared ambition: 3.7 (n=3), +1.0 since last month" in html
    assert "<b>" not in html and "data:image/png;base64," in html

    found = achtje(*month, "--format", "png")  # standard output is no terminal here
    assert found.exit_code == 0 and png_size(found.stdout_bytes) == (1000, 800)

    found = achtje(*month, "--lang", "en")
    assert found.exit_code == 0
    assert "Shared ambition: 3.7 (n=3)" in found.stdout
    assert "Informal contact" in found.stdout

    # Without --month: the last month that is over (the command runs on the real clock).
    this_month = datetime.now(ZoneInfo("Europe/Amsterdam")).date().replace(day=1)
    found = achtje("--partnership", partnership)
    assert found.exit_code == 0
    last = content.month_name(shift_month(this_month, -1), "nl")
    assert found.stdout.startswith(f"{NAME}, {last}: ")

    for args, phrase in (
        (["--partnership", partnership, "--month", "november"],
         "--month must look like 2026-11 (from 2000 on), not 'november'"),
        (["--partnership", partnership, "--month", "2999-01"],
         "--month 2999-01 has not begun yet; the latest is"),
        # Running: someone answering now would change its numbers.
        (["--partnership", partnership, "--month", f"{this_month:%Y-%m}"],
         f"--month {this_month:%Y-%m} is still running and its numbers can still change; it "
         f"can be summarised from {shift_month(this_month, 1)}, the latest month now is "
         f"{shift_month(this_month, -1):%Y-%m}"),
        (["--partnership", "99"], "no partnership with id 99"),
        ([*month, "--format", "json", "--short"], "--short is for --format text or html"),
    ):
        found = achtje(*args)
        assert (found.exit_code, found.stdout) == (1, ""), found.output
        assert phrase in found.stderr


async def test_a_month_frozen_before_schools_reads_back_and_shows_no_school(
    sessions: async_sessionmaker[Any], content: Content
) -> None:
    """A frozen month stored before schools were recorded has no `schools` anywhere in its
    data: it decodes, shows no school on the dashboard, and its CSV rows say why."""
    from adapters.dashboard.view import Filters, year_view
    from bot.summary.codec import decode, encode
    from bot.summary.export import csv_rows

    partners = await nine_people(sessions)
    november = await summary_of(sessions, content, partners)
    stored = json.loads(json.dumps(encode(await summary_of(sessions, content, partners, OCT))))
    del stored["schools"]
    for topic in (*stored["conditions"], *stored["boards"]):
        del topic["schools"]
    october = decode(Summary, stored)
    assert october.schools == () and not october.condition("organisation").schools
    assert october.condition("organisation").sides  # the rest is as it was
    college = partners.schools["mbo"]
    view = year_view([october, november], Filters(2026, school=college), 3)
    assert view.school is not None and view.school.name == "Mbo Vakcollege"
    [before, after] = view.conditions
    organisation = 3  # the fourth condition
    assert not before.figures[organisation].shown
    assert (after.figures[organisation].respondents,
            round(after.figures[organisation].mean or 0, 2)) == (3, 2.33)
    rows = {(r["month"], r["group_name"]): r for r in csv_rows([october, november])
            if r["topic"] == "organisation" and r["group_kind"] == "school"}
    assert (rows[("2026-10", "Mbo Vakcollege")]["suppressed"],
            rows[("2026-10", "Mbo Vakcollege")]["respondents"]) == ("not_recorded", "")
    assert rows[("2026-11", "Mbo Vakcollege")]["respondents"] == "3"

"""A summary for keeping: a JSON document with a stable schema, one self-contained HTML
page, and CSV rows for a quality office (`achtje summary --format json|html|csv`; the CSV
is also the dashboard's download).

The JSON schema is documented (with every field) in docs/summary.md; change it only by
adding fields, or raise `SCHEMA_VERSION`. Like every summary, both hold no user ids, names
or answer times: numbers with their n, ids from the content, and open answers only where
the trust rules allow them.
"""

from __future__ import annotations

import base64
import csv
import io
from collections.abc import Iterator, Sequence
from html import escape
from typing import Any

from bot.content import Content
from bot.domain import LEVEL_IDS, SCHOOL_TYPES
from bot.months import shift_month
from bot.nudges.stats import NudgeStats
from bot.summary.model import OPEN_TEXT_MIN, GroupScore, Summary, TopicSummary
from bot.summary.render import render_sections
from bot.summary.rules import SummaryRules

SCHEMA_VERSION = 2
DECIMALS = 2  # means in the JSON; the texts show one


def summary_document(summary: Summary, content: Content, rules: SummaryRules) -> dict[str, Any]:
    """The summary as plain JSON data (schema in docs/summary.md)."""
    minimum = summary.min_group_size
    return {
        "schema_version": SCHEMA_VERSION,
        "partnership": {"id": summary.partnership_id, "name": summary.partnership},
        "month": f"{summary.month:%Y-%m}",
        "min_group_size": minimum,
        "schools": [{"id": s.id, "name": s.name, "type": s.type} for s in summary.schools],
        "open_answers_min_group_size": max(OPEN_TEXT_MIN, minimum),
        "members": summary.members,
        "respondents": summary.respondents,
        "response_rate": summary.response_rate,
        "rounds": [{"number": r.number, "opened_on": r.opened_on.isoformat(),
                    "closed_on": r.closed_on.isoformat(),
                    "respondents": r.respondents, "members": r.members}
                   for r in summary.rounds],
        "conditions": [_topic(t, summary) for t in summary.conditions],
        "boards": [_topic(t, summary) for t in summary.boards],
        "pitfall_signals": [
            {"pitfall": s.pitfall, "condition": content.pitfall(s.pitfall).condition,
             "reasons": [{"signal": r.signal, "condition": r.condition,
                          "value": round(r.value, DECIMALS)} for r in s.reasons]}
            for s in summary.signals],
        "informal_contact": _informal(summary.nudges, minimum),
        "agenda": [{"source": q.source, "ref": q.ref,
                    "question": rules.agenda.question(q.source, q.ref).model_dump()}
                   for q in summary.agenda],
    }


def _number(value: float | None) -> float | None:
    return None if value is None else round(value, DECIMALS)


def _topic(topic: TopicSummary, summary: Summary) -> dict[str, Any]:
    def groups(found: tuple[GroupScore, ...]) -> list[dict[str, Any]]:
        return [{"group": g.group, "respondents": g.respondents, "mean": _number(g.mean)}
                for g in found]

    return {
        "id": topic.topic,
        "respondents": topic.respondents,
        "mean": _number(topic.mean),
        "distribution": list(topic.distribution) if topic.distribution is not None else None,
        "dont_know": topic.dont_know,
        "score_statements": list(topic.basis),
        "change": topic.change,
        "compared_with": None if topic.compared_month is None
        else f"{topic.compared_month:%Y-%m}",
        "comparable": topic.comparable,
        "trend": [{"month": f"{shift_month(summary.month, n - 2):%Y-%m}", "mean": _number(m)}
                  for n, m in enumerate(topic.trend)],
        "direction": topic.direction,
        "statements": list(topic.statements),
        "statement_results": [
            {"statement": r.statement, "anchor": r.anchor, "respondents": r.respondents,
             "mean": _number(r.mean), "open_answers": list(r.open_answers)}
            for r in topic.results],
        "sides": groups(topic.sides),
        "levels": groups(topic.levels),
        "schools": groups(topic.schools),
    }


def _informal(nudges: NudgeStats | None, minimum: int) -> dict[str, Any] | None:
    if nudges is None:
        return None
    shown = nudges.people_paired >= minimum
    return {"rounds": nudges.rounds,
            "people_paired": nudges.people_paired if shown else None,
            "people_met": nudges.people_met if shown else None,
            "people_met_cross_school": nudges.people_met_cross_school if shown else None}


CSV_COLUMNS = ("partnership_id", "month", "kind", "topic", "group_kind", "group",
               "respondents", "mean", "min_group_size", "suppressed", "group_name")
NOT_ASKED = "not_asked"  # the month asked no statement on the topic
BELOW_THRESHOLD = "below_threshold"  # too few people, or a smaller group would follow
NOT_RECORDED = "not_recorded"  # frozen before months kept figures per school


def csv_rows(summaries: Sequence[Summary]) -> Iterator[dict[str, str]]:
    """One row per month x topic x group: the five conditions for everyone, each school
    type, each level and each school (every school any of the months lists, by id, with
    its latest name); the boards for everyone (they are not split by group). A cell the
    frozen month does not show is empty, with the reason in `suppressed`: the frozen month
    keeps no number of a group below the threshold, so none can get out here."""
    names = {school.id: school.name for s in summaries for school in s.schools}
    for summary in summaries:
        listed = {school.id for school in summary.schools}
        for kind, topics in (("condition", summary.conditions), ("board", summary.boards)):
            for topic in topics:
                cells: list[tuple[str, str, int | None, float | None, str]] = [
                    ("all", "all", topic.respondents, topic.mean, "")]
                if kind == "condition":
                    cells += [(group_kind, group, *_group_score(found, group), "")
                              for group_kind, groups, found in (
                                  ("school_type", SCHOOL_TYPES, topic.sides),
                                  ("level", LEVEL_IDS, topic.levels))
                              for group in groups]
                    cells += [("school", str(school), *_group_score(topic.schools, str(school)),
                               name) for school, name in sorted(names.items())]
                for group_kind, group, respondents, mean, name in cells:
                    shown = respondents is not None and mean is not None
                    reason = "" if shown else (
                        NOT_ASKED if not (topic.statements or topic.basis)
                        else NOT_RECORDED if group_kind == "school" and not listed
                        else BELOW_THRESHOLD)
                    yield {"partnership_id": str(summary.partnership_id),
                           "month": f"{summary.month:%Y-%m}", "kind": kind,
                           "topic": topic.topic, "group_kind": group_kind, "group": group,
                           "respondents": str(respondents) if shown else "",
                           "mean": f"{mean:.{DECIMALS}f}" if shown and mean is not None else "",
                           "min_group_size": str(summary.min_group_size),
                           "suppressed": reason, "group_name": _cell_text(name)}


def _cell_text(text: str) -> str:
    """Text a spreadsheet shows as text: one starting like a formula gets a quote first."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _group_score(found: tuple[GroupScore, ...], group: str) -> tuple[int | None, float | None]:
    score = next((g for g in found if g.group == group), None)
    return (None, None) if score is None else (score.respondents, score.mean)


def summary_csv(summaries: Sequence[Summary]) -> str:
    """The rows of `csv_rows` as CSV text with a header line (RFC 4180, CRLF line ends)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    writer.writerows(csv_rows(summaries))
    return out.getvalue()


_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 46rem; margin: 1.5rem auto;
       padding: 0 1rem; line-height: 1.45; color: #1d2933; }
h1 { font-size: 1.35rem; } h2 { font-size: 1.1rem; margin-top: 1.6rem; }
ul, ol { padding-left: 1.3rem; } li { margin: 0.25rem 0; }
.detail { color: #4b5a66; font-size: 0.92rem; }
figure { margin: 1.2rem 0; } img { max-width: 100%; height: auto; }
figcaption { color: #4b5a66; font-size: 0.9rem; }
"""


def summary_page(summary: Summary, content: Content, rules: SummaryRules, lang: str,
                 chart: bytes | None, *, short: bool = False) -> str:
    """One HTML page with everything inline: the texts of the summary, every piece escaped,
    and the chart (when given) as a data URI."""
    sections = render_sections(summary, content, rules, lang, short=short)
    title = sections[0].split("\n", 1)[0]
    body = [_section(section, 1 if n == 0 else 2) for n, section in enumerate(sections)]
    if chart is not None:
        caption = content.text("summary_chart_caption", lang, partnership=summary.partnership,
                               month=content.month_name(summary.month, lang))
        source = "data:image/png;base64," + base64.b64encode(chart).decode("ascii")
        body.insert(1, f'<figure><img src="{source}" alt="{escape(caption)}" width="1000" '
                       f'height="800"><figcaption>{escape(caption)}</figcaption></figure>')
    return "\n".join([
        "<!DOCTYPE html>",
        f'<html lang="{escape(lang)}">',
        '<head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>{_STYLE}</style></head>",
        "<body>", *body, "</body>", "</html>", "",
    ])


def _section(text: str, level: int) -> str:
    """A rendered section as HTML: its first line the heading, "- " lines a list, "1. "
    lines a numbered list, indented lines details of the item above, others paragraphs."""
    lines = text.split("\n")
    out = [f"<section><h{level}>{escape(lines[0])}</h{level}>"]
    open_list: str | None = None
    for line in lines[1:]:
        if line.startswith("  ") and open_list:
            out.append(f'<div class="detail">{escape(line.strip())}</div>')
            continue
        kind, item = _list_item(line)
        if kind != open_list:
            if open_list:
                out.append(f"</li></{open_list}>")
            if kind:
                out.append(f"<{kind}>")
            open_list = kind
        elif kind:
            out.append("</li>")
        if kind:
            out.append(f"<li>{escape(item)}")
        elif line.strip():
            out.append(f"<p>{escape(line)}</p>")
    if open_list:
        out.append(f"</li></{open_list}>")
    out.append("</section>")
    return "\n".join(out)


def _list_item(line: str) -> tuple[str | None, str]:
    if line.startswith("- "):
        return "ul", line[2:]
    number, dot, rest = line.partition(". ")
    if dot and number.isdigit():
        return "ol", rest
    return None, line

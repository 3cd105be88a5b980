"""What a reflection session shows: per condition the mean, how each school sees it, what
goes well in the team's own words, and what to talk about. Pure: answers in, text out.

Thresholds: a mean from the partnership's threshold of scores (`minimum`, as in its
summaries), notes from five (`MIN_OPEN_TEXTS`) or the threshold if higher.
How each school scores a condition is shown only for the schools `visible_cells` allows
(bot/summary/privacy.py): a school's mean next to the total would otherwise give away a
small school by subtraction. Across the two posts a session can make (the first, once
three are done, and the final one when closed):
- a condition's number changes only when at least three more people scored it since;
- its per-school comparison is shown once, in a post where its number is computed afresh
  (never next to a kept earlier total, whose difference with the schools' sum would be one
  late person's score);
- its notes are shown once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from statistics import fmean
from typing import Any

from bot.content import Content
from bot.domain import CONDITION_IDS
from bot.flows.instruments.common import MIN_OPEN_TEXTS, bar
from bot.store.instruments import ReflectionAnswer
from bot.summary.model import GroupScore
from bot.summary.privacy import visible_cells

TALK_ABOUT = 2
NOTE_LIMIT = 300


@dataclass(frozen=True)
class ConditionResult:
    condition: str
    respondents: int
    mean: float | None  # None when fewer than the threshold scored it
    earlier: bool = False  # as posted before, kept in the final result
    schools: tuple[GroupScore, ...] = ()  # the schools that may be shown, if compared
    notes: tuple[str, ...] = ()  # what goes well, when enough people wrote and may show
    compared: bool = field(default=False)


def results(answers: list[ReflectionAnswer], school_names: Mapping[int, str], minimum: int
            ) -> list[ConditionResult]:
    """Per condition: how many scored it, the mean when enough did, the schools that may
    be shown next to it (each answer at the school it was given from), and the notes when
    at least MIN_OPEN_TEXTS people (or `minimum`, if higher) wrote one."""
    found = []
    for condition in CONDITION_IDS:
        scored = [a for a in answers if a.condition == condition and a.score is not None]
        notes = sorted(a.note for a in answers if a.condition == condition and a.note)
        if len(scored) < minimum:
            found.append(ConditionResult(condition, len(scored), None))
            continue
        found.append(ConditionResult(
            condition, len(scored), fmean(a.score for a in scored if a.score is not None),
            schools=_schools(scored, school_names, minimum),
            notes=tuple(notes) if len(notes) >= max(MIN_OPEN_TEXTS, minimum) else ()))
    return found


def _schools(scored: list[ReflectionAnswer], school_names: Mapping[int, str], minimum: int
             ) -> tuple[GroupScore, ...]:
    """The schools whose mean may stand next to the total, when at least two may."""
    by_school: dict[str | None, list[int]] = {}  # by school id (privacy's keys are text)
    for answer in scored:
        known = answer.school_id is not None and answer.school_id in school_names
        by_school.setdefault(str(answer.school_id) if known else None, []).append(
            answer.score or 0)
    visible = visible_cells({(school,): len(scores) for school, scores in by_school.items()},
                            minimum)
    shown = sorted((GroupScore(school_names[int(school)], len(scores), fmean(scores))
                    for school, scores in by_school.items()
                    if school is not None and (0, school) in visible),
                   key=lambda score: score.group)
    return tuple(shown) if len(shown) >= 2 else ()


def first_post(found: list[ConditionResult]) -> list[ConditionResult]:
    """The first result: everything that may be shown, marked as compared."""
    return [_mark(result) for result in found]


def final_results(found: list[ConditionResult], shown: dict[str, Any], minimum: int
                  ) -> list[ConditionResult]:
    """What the closing post may show after the first post: a condition's new number when
    it had none before or at least `minimum` more people scored it since; else the earlier
    one, without schools. Schools and notes shown before are not shown again."""
    compared = set(shown.get("compared", []))
    noted = set(shown.get("noted", []))
    merged = []
    for result in found:
        count, mean = shown["conditions"].get(result.condition, [0, None])
        notes = () if result.condition in noted else result.notes
        if mean is None or (result.mean is not None
                            and result.respondents - count >= minimum):
            schools = () if result.condition in compared else result.schools
            merged.append(_mark(ConditionResult(result.condition, result.respondents,
                                                result.mean, schools=schools, notes=notes)))
        else:
            merged.append(ConditionResult(result.condition, count, mean, earlier=True,
                                          notes=notes))
    return merged


def _mark(result: ConditionResult) -> ConditionResult:
    return ConditionResult(result.condition, result.respondents, result.mean, result.earlier,
                           result.schools, result.notes, compared=bool(result.schools))


def remember(found: list[ConditionResult], respondents: int,
             before: dict[str, Any] | None = None) -> dict[str, Any]:
    """What to keep of a post (`ReflectionSession.shown`), merged with what was shown."""
    before = before or {"conditions": {}}
    return {
        "respondents": respondents,
        "conditions": {**before["conditions"],
                       **{r.condition: [r.respondents, r.mean] for r in found if not r.earlier}},
        "compared": sorted(set(before.get("compared", []))
                           | {r.condition for r in found if r.compared}),
        "noted": sorted(set(before.get("noted", [])) | {r.condition for r in found if r.notes}),
    }


def render_result(content: Content, lang: str, number: int, statement_ids: list[str],
                  respondents: int, found: list[ConditionResult], minimum: int,
                  final: bool = False) -> str:
    """The aggregate; the lowest conditions come with the follow-up question of the
    statement the session asked on them, the highest with "what goes well, and why?"."""
    title_key = "reflection_final_title" if final else "reflection_result_title"
    title = content.text(title_key, lang, number=number, count=respondents)
    if respondents < minimum:
        return "\n".join([title, content.text("reflection_too_few", lang, count=respondents,
                                              minimum=minimum)])
    rows = [title]
    for result in found:
        name = content.condition(result.condition).name.get(lang)
        if result.mean is None:
            row = content.text("reflection_row_hidden", lang, condition=name,
                               count=result.respondents, minimum=minimum)
        else:
            row = content.text("reflection_row", lang, condition=name,
                               mean=content.decimal(result.mean, lang),
                               count=result.respondents, bar=bar(result.mean))
        if result.earlier:
            row += content.text("reflection_row_earlier", lang)
        rows.append(row)
        if result.schools:
            rows.append(_comparison(content, lang, result.schools))
    noted = [r for r in found if r.notes]
    if noted:
        rows += ["", content.text("reflection_notes_title", lang,
                                     minimum=max(MIN_OPEN_TEXTS, minimum))]
        for result in noted:
            rows.append(content.condition(result.condition).name.get(lang) + ":")
            rows += [f"- {note}" for note in result.notes]
    shown = sorted((r for r in found if r.mean is not None),
                   key=lambda r: (r.mean, CONDITION_IDS.index(r.condition)))
    if shown:
        rows += ["", content.text("reflection_talk_about", lang)]
        for result in shown[:TALK_ABOUT]:
            condition = content.condition(result.condition)
            asked = statement_ids[CONDITION_IDS.index(condition.id)]
            rows.append(content.text("reflection_talk_row", lang,
                                     condition=condition.name.get(lang),
                                     question=content.statement(asked).followup.get(lang)))
        if len(shown) > TALK_ABOUT:
            best = content.condition(shown[-1].condition).name.get(lang)
            rows.append(content.text("reflection_goes_well", lang, condition=best))
    return "\n".join(rows)


def _comparison(content: Content, lang: str, schools: tuple[GroupScore, ...]) -> str:
    parts = [content.text("reflection_school", lang, school=s.group,
                          mean=content.decimal(s.mean, lang), count=s.respondents)
             for s in schools]
    gap = max(s.mean for s in schools) - min(s.mean for s in schools)
    return content.text("reflection_compare", lang, schools=" · ".join(parts),
                        gap=content.decimal(gap, lang))

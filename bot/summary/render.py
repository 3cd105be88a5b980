"""A summary in words, for a project leader: neutral `Text` and `Image` replies in nl or en.

`summary_replies` reads a month's frozen result (`bot.summary.frozen`) and renders it;
`SummaryMessages` renders one summary in several languages and versions (the scheduler,
the chat command). The full
version is for project leaders; `short=True` gives the channel version (the five scores,
then the chart and the agenda in their thread).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.content import Content
from bot.domain import DOMAIN_IDS
from bot.messages import FIRST, Image, Reply, Text
from bot.months import shift_month
from bot.nudges.stats import NudgeStats
from bot.store.models import Partnership
from bot.summary.chart import summary_chart
from bot.summary.compute import reaches
from bot.summary.frozen import published_summary
from bot.summary.model import (
    OPEN_TEXT_MIN,
    Gap,
    GroupScore,
    Reason,
    Summary,
    TopicSummary,
    shown,
)
from bot.summary.rules import SummaryRules, load_summary_rules

MAX_MESSAGE = 3500  # characters per Text; Telegram takes at most 4096
MAX_OPEN_ANSWERS = 8  # per statement
MAX_OPEN_LENGTH = 300  # characters per open answer
# Charts are drawn off the event loop, always on this one thread: drawn on the default
# executor's threads in turn, each thread's malloc arena kept its own few MB of a chart's
# transient pixel arrays (about 7 MB more after a monthly run). The chart's template
# serialises drawing anyway.
_CHARTS = ThreadPoolExecutor(max_workers=1, thread_name_prefix="achtje-chart")


async def summary_replies(
    session: AsyncSession,
    content: Content,
    partnership: Partnership,
    month: date,
    lang: str,
    *,
    short: bool = False,
    rules: SummaryRules | None = None,
    now: datetime | None = None,
) -> list[Reply]:
    """The summary of a month that is over (at `now`, default the current time) as
    replies: texts, with the chart after the five conditions; the month is frozen first
    when it is not yet. A month without figures gets the short "no figures yet" text.

    `rules` default to `summary_rules.yaml` and `summary_agenda.yaml` in the folder `content`
    was loaded from.
    """
    rules = rules or load_summary_rules(content)
    summary = await published_summary(session, content, partnership, month, now=now)
    if summary is None:
        return [Text(text=content.text("summary_no_figures", lang,
                                       month=content.month_name(month, lang)))]
    return await SummaryMessages(summary, content, rules).replies(lang, short=short)


@dataclass
class SummaryMessages:
    """One computed summary, rendered in each language and version asked for; each is
    rendered once (the chart once per language), however many leaders share it."""

    summary: Summary
    content: Content
    rules: SummaryRules
    _charts: dict[str, bytes] = field(default_factory=dict, init=False, repr=False)
    _done: dict[tuple[str, bool], list[Reply]] = field(default_factory=dict, init=False,
                                                        repr=False)

    async def replies(self, lang: str, *, short: bool = False) -> list[Reply]:
        """The full version, ending with how to ask for another month in chat, or with
        `short` the channel version: the five scores as one message, the chart and the
        agenda in its thread (`thread_of=FIRST`)."""
        if (lang, short) not in self._done:
            self._done[(lang, short)] = await self._render(lang, short)
        return list(self._done[(lang, short)])

    async def _render(self, lang: str, short: bool) -> list[Reply]:
        summary, content = self.summary, self.content
        sections = render_sections(summary, content, self.rules, lang, short=short)
        replies: list[Reply] = [Text(text=chunk) for chunk in _chunks(sections[0])]
        if has_chart(summary):
            if lang not in self._charts:
                self._charts[lang] = await asyncio.get_running_loop().run_in_executor(
                    _CHARTS, summary_chart, summary, content, lang)
            caption = content.text("summary_chart_caption", lang,
                                   partnership=summary.partnership,
                                   month=content.month_name(summary.month, lang))
            replies.append(Image(png=self._charts[lang], caption=caption))
        replies += [Text(text=chunk) for section in sections[1:] for chunk in _chunks(section)]
        if short:
            replies[1:] = [replace(reply, thread_of=FIRST) for reply in replies[1:]]
            return replies
        last = replies[-1]
        assert isinstance(last, Text)  # the agenda
        hint = content.text("summary_other_months", lang,
                            example=content.month_name(shift_month(summary.month, -1), lang))
        replies[-1] = replace(last, text=f"{last.text}\n\n{hint}")
        return replies


def has_chart(summary: Summary) -> bool:
    """Whether the chart would show anything: a condition with a number this or last month."""
    return any(t.mean is not None or t.trend[1] is not None for t in summary.conditions)


def render_text(summary: Summary, content: Content, rules: SummaryRules, lang: str,
                *, short: bool = False) -> str:
    """The whole summary as one plain text (the CLI and the demo print this)."""
    return "\n\n".join(render_sections(summary, content, rules, lang, short=short))


def render_sections(summary: Summary, content: Content, rules: SummaryRules, lang: str,
                    *, short: bool = False) -> list[str]:
    words = _Words(content, rules, lang, summary.min_group_size)
    head = [content.text("overview_title", lang, partnership=summary.partnership,
                         month=content.month_name(summary.month, lang),
                         respondents=summary.respondents, members=summary.members,
                         rate=summary.response_rate),
            content.text("summary_intro", lang, minimum=summary.min_group_size)]
    if short:
        rows = [words.row(t, detail=False, month=summary.month) for t in summary.conditions]
        return ["\n".join([*head, "", content.text("summary_conditions_title", lang), *rows]),
                words.agenda(summary)]
    head += [content.text("summary_confidential", lang), words.rounds(summary)]
    conditions = [words.row(t, detail=True, month=summary.month) for t in summary.conditions]
    sections = [
        "\n".join([*head, "", content.text("summary_conditions_title", lang), *conditions]),
        words.boards(summary),
        words.gaps(summary),
        words.pitfalls(summary),
    ]
    if summary.nudges is not None:
        sections.append(words.informal(summary.nudges))
    return [*sections, words.open_answers(summary), words.agenda(summary)]


class _Words:
    """Turns the parts of a summary into lines in one language."""

    def __init__(self, content: Content, rules: SummaryRules, lang: str, minimum: int) -> None:
        self.content, self.rules, self.lang, self.minimum = content, rules, lang, minimum

    def t(self, key: str, **values: object) -> str:
        return self.content.text(key, self.lang, **values)

    def num(self, value: float, signed: bool = False) -> str:
        if signed and shown(value) == 0:
            return self.content.decimal(0, self.lang)  # not "-0.0" for a tiny drop
        shown_value = self.content.decimal(value, self.lang)
        return f"+{shown_value}" if signed and value > 0 else shown_value

    def day(self, day: date) -> str:
        return self.content.day(day, self.lang, year=False)

    def name(self, topic: str) -> str:
        if topic in ("content", "collaboration", "anchoring"):
            return self.content.domain(topic).name.get(self.lang)
        return self.content.topic_name(topic, self.lang)

    def rounds(self, summary: Summary) -> str:
        if not summary.rounds:
            return self.t("summary_no_rounds")
        listed = "; ".join(
            self.t("summary_round", opened=self.day(r.opened_on), closed=self.day(r.closed_on),
                   respondents=r.respondents, members=r.members,
                   rate=round(100 * r.respondents / r.members) if r.members else 0)
            for r in summary.rounds)
        return self.t("summary_rounds", rounds=listed)

    def row(self, topic: TopicSummary, detail: bool, month: date) -> str:
        """One topic: its mean with n, the change against the month it compares with and
        the direction of that same change; with `detail` the months as a line of numbers,
        the answers per score and the statements. Nothing but the name where it is hidden."""
        name = self.name(topic.topic)
        if topic.topic != "collaboration" and not topic.statements:
            return "- " + self.t("summary_not_asked", name=name)
        if topic.mean is None and topic.topic == "collaboration" \
                and topic.respondents is not None:
            return "- " + self.t("summary_board_incomplete", name=name,
                                 count=topic.respondents)
        if topic.mean is None:
            return "- " + self.t("summary_hidden", name=name, minimum=self.minimum)
        parts = [self.t("summary_row", name=name, mean=self.num(topic.mean),
                        count=topic.respondents)]
        parts += self.comparison(topic, month)
        lines = ["- " + ", ".join(parts)]
        known = [v for v in topic.trend if v is not None]
        if detail and topic.trend[0] is not None and len(known) >= 2:
            values = " → ".join(self.t("summary_trend_missing") if v is None else self.num(v)
                                for v in topic.trend)
            lines.append("  " + self.t("summary_trend", values=values))
        if detail and topic.distribution is not None:
            lines.append("  " + self.t("summary_distribution",
                                       counts=" · ".join(str(n) for n in topic.distribution),
                                       dont_know=topic.dont_know))
        if detail and topic.basis:
            lines += self.statements(topic)
        return "\n".join(lines)

    def comparison(self, topic: TopicSummary, month: date) -> list[str]:
        if topic.compared_month is None:
            return []
        last = topic.compared_month == shift_month(month, -1)
        when = {} if last else {"month": self.content.month_name(topic.compared_month,
                                                                 self.lang)}
        if not topic.comparable:
            return [self.t("summary_not_comparable" if last else "summary_not_comparable_with",
                           **when)]
        if topic.change is None or topic.direction is None:
            return []
        return [self.t("summary_change" if last else "summary_change_since",
                       change=self.num(topic.change, signed=True),
                       direction=self.t(f"summary_direction_{topic.direction}"), **when)]

    def quote(self, statement: str) -> str:
        return f'"{self.content.statement(statement).text.get(self.lang)}"'

    def statements(self, topic: TopicSummary) -> list[str]:
        """The statements the score is on, then each other statement asked, with its own
        mean and n where enough people scored it."""
        lines = ["  " + self.t("summary_basis",
                               statements=" / ".join(self.quote(s) for s in topic.basis))]
        for result in topic.results:
            if result.statement in topic.basis:
                continue
            if result.mean is None:
                figure = self.t("summary_statement_hidden")
            else:
                figure = self.t("summary_statement_figure", mean=self.num(result.mean),
                                count=result.respondents)
            lines.append("  " + self.t("summary_statement", statement=self.quote(
                result.statement), figure=figure))
        return lines

    def boards(self, summary: Summary) -> str:
        lines = [self.t("summary_boards_title")]
        lines += [self.row(board, detail=False, month=summary.month) for board in summary.boards]
        together = summary.board("collaboration").mean
        for board_id in DOMAIN_IDS:
            mean = summary.board(board_id).mean
            if together is None or mean is None:
                continue
            behind = together - mean
            if behind >= self.rules.thresholds.notable_gap:
                lines.append(self.t("summary_board_behind", name=self.name(board_id),
                                    gap=self.num(behind),
                                    risk=self.content.domain(board_id).risk.get(self.lang)))
        return "\n".join(lines)

    def group(self, group: GroupScore) -> str:
        name = (self.t(f"summary_side_{group.group}") if group.group in ("vmbo", "mbo", "other")
                else self.content.level_name(group.group, self.lang))
        return self.t("summary_group", group=name, mean=self.num(group.mean),
                      count=group.respondents)

    def gaps(self, summary: Summary) -> str:
        limits = self.rules.thresholds
        lines = [self.t("summary_gaps_title")]
        for topic in summary.conditions:
            for key, groups, gap, flag, limit in (
                ("summary_gap_sides", topic.sides, topic.side_gap,
                 "summary_gap_language" if topic.topic == "ambition" else None,
                 limits.school_gap),
                ("summary_gap_levels", topic.levels, topic.level_gap, "summary_gap_eight",
                 limits.level_gap),
            ):
                if not _notable(gap, limits.notable_gap, limit if flag else None):
                    continue
                assert gap is not None
                lines.append("- " + self.t(key, name=self.name(topic.topic),
                                           groups=", ".join(self.group(g) for g in groups),
                                           gap=self.num(gap.size)))
                if flag and reaches(gap.size, limit):
                    lines.append("  " + self.t(flag))
        if len(lines) == 1:
            lines.append(self.t("summary_no_gaps", gap=self.num(limits.notable_gap)))
        return "\n".join(lines)

    def reason(self, reason: Reason) -> str:
        if reason.signal == "few_informal":
            value = str(round(100 * reason.value))
        else:
            value = self.num(abs(reason.value))
        condition = self.name(reason.condition) if reason.condition else ""
        return self.t(f"summary_reason_{reason.signal}", condition=condition, value=value)

    def pitfalls(self, summary: Summary) -> str:
        lines = [self.t("summary_pitfalls_title")]
        for signal in summary.signals:
            pitfall = self.content.pitfall(signal.pitfall)
            reasons = f" {self.t('summary_reasons_and')} ".join(
                self.reason(r) for r in signal.reasons)
            lines.append("- " + self.t("summary_pitfall", name=pitfall.name.get(self.lang),
                                       condition=self.name(pitfall.condition), reasons=reasons))
            lines.append("  " + self.t("summary_success_factors"))
            lines += [f"  · {factor.get(self.lang)}" for factor in pitfall.success_factors]
        if not summary.signals:
            lines.append(self.t("summary_no_pitfalls"))
        return "\n".join(lines)

    def informal(self, nudges: NudgeStats) -> str:
        title = self.t("summary_informal_title")
        if nudges.people_paired < self.minimum:
            return title + "\n" + self.t("summary_informal_hidden", minimum=self.minimum)
        share = round(100 * nudges.people_met / nudges.people_paired)
        cross = (round(100 * nudges.people_met_cross_school / nudges.people_met)
                 if nudges.people_met else 0)
        return title + "\n" + self.t("summary_informal", rounds=nudges.rounds,
                                     met=nudges.people_met, invited=nudges.people_paired,
                                     share=share, cross=cross)

    def open_answers(self, summary: Summary) -> str:
        """The texts under the statement they answer. The closing line on which groups show
        texts is always there, so it tells nothing about this month's numbers."""
        lines = [self.t("summary_open_title")]
        for topic in (*summary.conditions, *summary.boards):
            for result in topic.results:
                if not result.open_answers:
                    continue
                where = {"name": self.name(topic.topic),
                         "statement": self.quote(result.statement)}
                lines.append(self.t("summary_open_statement_plain", **where)
                             if result.respondents is None else
                             self.t("summary_open_statement", **where,
                                    count=result.respondents))
                for text in result.open_answers[:MAX_OPEN_ANSWERS]:
                    cut = text if len(text) <= MAX_OPEN_LENGTH else \
                        text[:MAX_OPEN_LENGTH - 3].rstrip() + "..."
                    lines.append(f'- "{cut}"')
        if len(lines) == 1:
            lines.append(self.t("summary_open_none"))
        lines.append(self.t("summary_open_rule", minimum=max(OPEN_TEXT_MIN, self.minimum)))
        return "\n".join(lines)

    def agenda(self, summary: Summary) -> str:
        lines = [self.t("summary_agenda_title")]
        for number, question in enumerate(summary.agenda, start=1):
            text = self.rules.agenda.question(question.source, question.ref)
            lines.append(f"{number}. {text.get(self.lang)}")
        return "\n".join(lines)


def _notable(gap: Gap | None, notable: float, flag_limit: float | None) -> bool:
    if gap is None:
        return False
    return reaches(gap.size, notable if flag_limit is None else min(notable, flag_limit))


def _chunks(section: str) -> Iterator[str]:
    """A section cut at line ends into pieces that fit one chat message."""
    piece: list[str] = []
    size = 0
    for line in section.split("\n"):
        line = line[:MAX_MESSAGE]
        if piece and size + len(line) + 1 > MAX_MESSAGE:
            yield "\n".join(piece)
            piece, size = [], 0
        piece.append(line)
        size += len(line) + 1
    if piece:
        yield "\n".join(piece)

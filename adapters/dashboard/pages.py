"""The dashboard's pages: Jinja2 templates (autoescape on, so every word and name is
escaped) filled with words from content/ui_dashboard.yaml and numbers from the view."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from adapters.dashboard.pdf import Block, Chart, render_pdf, year_document
from adapters.dashboard.svg import Series, line_chart
from adapters.dashboard.view import BOARD_IDS, Figure, YearView
from bot.content import Content
from bot.domain import CONDITION_IDS, LEVEL_IDS
from bot.store.models import Partnership
from bot.summary.model import Gap, SchoolName
from bot.summary.rules import load_summary_rules
from bot.summary.year import year_months

TEMPLATES = Path(__file__).with_name("templates")
# Pages after which someone who is in no chat needs the way in by mail.
BY_MAIL_HINT = frozenset({"dashboard_no_session", "dashboard_link_invalid"})


class Pages:
    def __init__(self, content: Content) -> None:
        self.content = content
        self.env = Environment(loader=FileSystemLoader(TEMPLATES),
                               autoescape=select_autoescape(default=True),
                               trim_blocks=True, lstrip_blocks=True)

    def _words(self, lang: str) -> Words:
        return Words(self.content, lang)

    def message(self, key: str, lang: str) -> str:
        words = self._words(lang)
        return self.env.get_template("message.html").render(
            w=words, key=key, by_mail=key in BY_MAIL_HINT)

    def mail_login(self, lang: str, minutes: int) -> str:
        return self.env.get_template("mail_login.html").render(w=self._words(lang),
                                                               minutes=minutes)

    def login(self, action: str, lang: str) -> str:
        return self.env.get_template("login.html").render(w=self._words(lang), action=action)

    def dashboard(self, view: YearView, partnership: Partnership, years: list[int],
                  lang: str) -> str:
        words = self._words(lang)
        rules = load_summary_rules(self.content)
        low = rules.thresholds.low
        axis = year_months(view.filters.year) if view.filters.year else []
        by_month = {row.month: row for row in view.conditions}
        series = [Series(c, words.topic(c), tuple(
            by_month[m].figures[n].mean if m in by_month else None for m in axis))
            for n, c in enumerate(CONDITION_IDS)]
        chart = Markup(line_chart(
            series, [words.short_month(m) for m in axis], low,
            words.t("dashboard_low", low=words.num(low)),
            words.t("dashboard_chart_title", year=words.year(view.filters.year)),
            words.t("dashboard_chart_desc", low=words.num(low)))) if view.months else None
        agenda = [(m.month, [rules.agenda.question(source, ref).get(lang)
                             for source, ref in m.questions]) for m in view.agenda]
        csv_url = f"/dashboard/{partnership.id}/summary.csv?year={view.filters.year}"
        return self.env.get_template("dashboard.html").render(
            w=words, view=view, partnership=partnership, years=years, chart=chart,
            conditions=CONDITION_IDS, boards=BOARD_IDS, agenda=agenda, csv_url=csv_url,
            pdf_url=f"/dashboard/{partnership.id}/summary.pdf?{_query(view)}",
            both=view.filters.both)

    def document(self, view: YearView, partnership: Partnership, lang: str) -> list[Block]:
        """The print view's content as blocks (adapters/dashboard/pdf.py)."""
        words = self._words(lang)
        rules = load_summary_rules(self.content)
        low = rules.thresholds.low
        axis = year_months(view.filters.year) if view.filters.year else []
        by_month = {row.month: row for row in view.conditions}
        chart = Chart(
            tuple(words.short_month(m) for m in axis),
            tuple((words.topic(c), tuple(by_month[m].figures[n].mean if m in by_month
                                         else None for m in axis))
                  for n, c in enumerate(CONDITION_IDS)),
            low, words.t("dashboard_low", low=words.num(low)),
            words.t("dashboard_chart_title", year=words.year(view.filters.year))
        ) if view.months else None
        agenda = [(m.month, [rules.agenda.question(source, ref).get(lang)
                             for source, ref in m.questions]) for m in view.agenda]
        title = words.t("dashboard_title", partnership=partnership.name)
        return year_document(view, words, title, chart, agenda)

    def pdf(self, view: YearView, partnership: Partnership, lang: str) -> bytes:
        words = self._words(lang)
        title = (f"{words.t('dashboard_title', partnership=partnership.name)} · "
                 f"{words.year(view.filters.year)}")
        return render_pdf(self.document(view, partnership, lang), title, lang)


def _query(view: YearView) -> str:
    """The filters of the page, for its PDF link."""
    school = view.filters.side or ("" if view.filters.school is None
                                   else str(view.filters.school))
    query = {"year": str(view.filters.year), "school": school,
             "level": view.filters.level or ""}
    return urlencode({key: value for key, value in query.items() if value})


class Words:
    """What the templates need to say things in one language."""

    def __init__(self, content: Content, lang: str) -> None:
        self.content = content
        self.lang = lang

    def t(self, key: str, **values: object) -> str:
        return str(self.content.text(key, self.lang, **values))

    def num(self, value: float) -> str:
        return str(self.content.decimal(value, self.lang))

    def topic(self, topic: str) -> str:
        return str(self.content.topic_name(topic, self.lang))

    def month(self, month: date) -> str:
        return str(self.content.month_name(month, self.lang))

    def short_month(self, month: date) -> str:
        return self.month(month).split()[0][:3]

    def year(self, year: int) -> str:
        return f"{year}-{year + 1}"

    def group(self, group: str) -> str:
        if group in LEVEL_IDS:
            return str(self.content.level_name(group, self.lang))
        return self.t(f"summary_side_{group}")

    def school(self, school: SchoolName) -> str:
        """A school by its name and type, e.g. "Het Baken (vmbo)"."""
        return self.t("dashboard_school", name=school.name, type=self.group(school.type))

    def chosen(self, view: YearView) -> str:
        """The group the filters chose, as the page names it."""
        filters = view.filters
        if view.school is not None and not filters.both:
            return self.school(view.school)
        if filters.both or filters.school is not None:  # or a school no month shows
            return "\u2013"
        return self.group(filters.side or filters.level or "")

    def figure(self, found: Figure) -> str:
        if not found.shown or found.mean is None:
            return self.t("dashboard_hidden")
        return f"{self.num(found.mean)} (n={found.respondents})"

    def gap(self, gap: Gap | None, schools: Sequence[SchoolName] = ()) -> str:
        """The largest difference; between `schools` (groups are their ids) when given."""
        if gap is None:
            return self.t("dashboard_no_gap")
        names = {str(school.id): school.name for school in schools}
        high, low = gap.high, gap.low
        return self.t("dashboard_gap", high=names.get(high.group) or self.group(high.group),
                      high_mean=self.num(high.mean),
                      low=names.get(low.group) or self.group(low.group),
                      low_mean=self.num(low.mean), size=self.num(gap.size))

    def gap_tables(self, view: YearView) -> list[tuple[str, str]]:
        """The gap tables' captions and parts: between schools only where a month shows
        schools."""
        tables = [(self.t("dashboard_gaps_sides"), "sides"),
                  (self.t("dashboard_gaps_levels"), "levels")]
        if view.schools:
            tables.append((self.t("dashboard_gaps_schools"), "schools"))
        return tables

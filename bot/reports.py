"""Commands that print what a partnership has built up: the monthly condition summary (as
text, JSON, the chart or an HTML page) and the plan from the impact matrix."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from bot.commandline import (
    MAX_ID,
    content_or_fail,
    fail,
    partnership_or_fail,
    with_session,
)
from bot.content import Content, ContentError
from bot.domain import LANGS
from bot.flows.instruments import matrix as impact_matrix
from bot.mail.plan import mail_envelopes
from bot.months import shift_month
from bot.outbox import enqueue
from bot.settings import Settings
from bot.store.models import Partnership
from bot.summary import Summary, SummaryMessages, load_summary_rules, render_text
from bot.summary.chart import summary_chart
from bot.summary.command import iso_month, latest_month
from bot.summary.export import summary_csv, summary_document, summary_page
from bot.summary.frozen import published_summary
from bot.summary.render import has_chart
from bot.summary.rules import SummaryRules
from bot.summary.year import school_year, year_summaries


class Format(StrEnum):
    text = "text"
    json = "json"
    png = "png"
    html = "html"
    csv = "csv"


def summary(
    partnership: Annotated[int, typer.Option(min=1, max=MAX_ID, help="Partnership id.")],
    month: Annotated[str | None, typer.Option(
        help="YYYY-MM, a month that is over; the last one if left out.")] = None,
    as_format: Annotated[Format, typer.Option(
        "--format", help="text as a leader reads it; json (schema in docs/summary.md); png: "
                         "the chart; html: one page with the chart inside; csv: a row per month, "
                         "condition and group (without --month: the school year so far)."
    )] = Format.text,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", dir_okay=False, help="Write to this file instead of standard "
                                              "output.")] = None,
    lang: Annotated[str | None, typer.Option(help="nl or en; the partnership's language if "
                                             "left out (json holds both).")] = None,
    short: Annotated[bool, typer.Option(help="The short version for the channel (text and "
                                        "html).")] = False,
    email: Annotated[bool, typer.Option(
        "--email", help="Mail it to the leaders and board members with an address instead, "
                        "through the outbox (the running service sends it; docs/email.md)."
    )] = False,
) -> None:
    """Print a partnership's monthly condition summary, as a project leader gets it.

    It is the month's frozen result, with the threshold it was frozen with (set it for
    months to come with `achtje partnership set --min-group-size`).
    """
    settings = Settings()
    content = content_or_fail(settings)
    try:
        rules = load_summary_rules(content)
    except ContentError as exc:
        raise fail(f"content is not valid:\n{exc}") from exc
    wanted = iso_month(month) if month else None
    if month and wanted is None:
        raise fail(f"--month must look like 2026-11 (from 2000 on), not {month!r}")
    if lang is not None and lang not in LANGS:
        raise fail(f"--lang must be {' or '.join(LANGS)}")
    if email and (as_format is not Format.text or output is not None or short or lang):
        raise fail("--email mails the summary in each person's language and version: "
                   "leave out --format, --output, --short and --lang")
    if email and not settings.smtp_url:
        raise fail("--email: mail is off here (ACHTJE_SMTP_URL is not set), so nothing is "
                   "queued; set it as for `achtje run`")
    if short and as_format in (Format.json, Format.png, Format.csv):
        raise fail("--short is for --format text or html")
    if as_format is Format.png and output is None and sys.stdout.isatty():
        raise fail("--format png writes image data: give --output FILE or redirect the output")

    async def work(session: AsyncSession
                   ) -> tuple[list[Summary], str, tuple[int, int] | None]:
        found = await partnership_or_fail(session, partnership)
        this_month = datetime.now(ZoneInfo(found.timezone)).date().replace(day=1)
        last = latest_month(this_month)
        if wanted is not None and wanted > this_month:
            raise fail(f"--month {month} has not begun yet; the latest is {last:%Y-%m}")
        if wanted is not None and wanted > last:
            raise fail(f"--month {month} is still running and its numbers can still change; "
                       f"it can be summarised from {shift_month(this_month, 1)}, the latest "
                       f"month now is {last:%Y-%m}")
        if as_format is Format.csv and wanted is None:  # the school year so far
            months = await year_summaries(session, content, found, school_year(last),
                                          datetime.now(ZoneInfo(found.timezone)))
            return months, lang or found.language, None
        result = await published_summary(session, content, found, wanted or last)
        if result is None:
            raise fail(content.text("summary_no_figures", lang or found.language,
                                    month=content.month_name(wanted or last,
                                                             lang or found.language)))
        mailed = await _queue_mail(session, found, result, content, rules) if email else None
        return [result], lang or found.language, mailed

    results, language, mailed = with_session(work)
    if mailed is not None:
        queued, wanted_mails = mailed
        typer.echo(f"queued {queued} mails for {results[0].month:%Y-%m}"
                   + (f" ({wanted_mails - queued} already had this month's mail)"
                      if queued < wanted_mails else "")
                   + "; `achtje run` with ACHTJE_SMTP_URL sends them, `achtje outbox` lists "
                     "failures", err=True)
        return
    document: str | bytes
    if as_format is Format.csv:
        _write(summary_csv(results), output)
        return
    result = results[0]
    if as_format is Format.text:
        document = render_text(result, content, rules, language, short=short) + "\n"
    elif as_format is Format.json:
        document = json.dumps(summary_document(result, content, rules), ensure_ascii=False,
                              indent=2) + "\n"
    elif as_format is Format.png:
        document = summary_chart(result, content, language)
    else:
        chart = summary_chart(result, content, language) if has_chart(result) else None
        document = summary_page(result, content, rules, language, chart, short=short)
    _write(document, output)


async def _queue_mail(session: AsyncSession, found: Partnership, result: Summary,
                      content: Content, rules: SummaryRules) -> tuple[int, int]:
    """`--email`, in the command's transaction: one mail per leader and board member with
    an address, as the scheduler plans them; a person who already got this month's mail is
    not mailed again. How many were queued, of how many wanted."""
    now = datetime.now(UTC)
    envelopes = await mail_envelopes(session, content, SummaryMessages(result, content, rules),
                                     found, now)
    return await enqueue(session, envelopes, now), len(envelopes)


def _write(document: str | bytes, output: Path | None) -> None:
    data = document.encode("utf-8") if isinstance(document, str) else document
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    try:
        output.write_bytes(data)
    except OSError as exc:
        raise fail(f"cannot write {output}: {exc.strerror}") from exc
    typer.echo(f"written to {output}", err=True)


def plan(
    partnership: Annotated[int, typer.Option(min=1, max=MAX_ID, help="Partnership id.")],
    lang: Annotated[str | None, typer.Option(help="nl or en; the partnership's language if "
                                             "left out.")] = None,
) -> None:
    """Print a partnership's plan from the impact matrix as Markdown."""
    content = content_or_fail(Settings())
    if lang is not None and lang not in LANGS:
        raise fail(f"--lang must be {' or '.join(LANGS)}")

    async def work(session: AsyncSession) -> str:
        found = await partnership_or_fail(session, partnership)
        return await impact_matrix.plan_document(session, content, found, lang or found.language)

    typer.echo(with_session(work), nl=False)


def register(app: typer.Typer) -> None:
    """Add `summary` and `plan` to the `achtje` command."""
    app.command()(summary)
    app.command()(plan)

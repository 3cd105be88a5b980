"""Commands that print what a partnership has built up: the monthly condition summary and
the plan from the impact matrix."""

from __future__ import annotations

from datetime import date, datetime
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
from bot.content import ContentError
from bot.flows.instruments import matrix as impact_matrix
from bot.settings import Settings
from bot.summary import compute_summary, load_summary_rules, render_text
from bot.summary.chart import summary_chart


def summary(
    partnership: Annotated[int, typer.Option(help="Partnership id.")],
    month: Annotated[str | None, typer.Option(help="YYYY-MM; the current month if left out.")]
    = None,
    png: Annotated[Path | None, typer.Option(dir_okay=False,
                                             help="Also write the chart to this PNG file.")]
    = None,
    lang: Annotated[str | None, typer.Option(help="nl or en; the partnership's language if "
                                             "left out.")] = None,
    short: Annotated[bool, typer.Option(help="The short version for the channel.")] = False,
    min_group_size: Annotated[int, typer.Option(min=3, help="Smallest group shown (3 or more).")]
    = 3,
) -> None:
    """Print a partnership's monthly condition summary, as a project leader gets it."""
    settings = Settings()
    content = content_or_fail(settings)
    try:
        rules = load_summary_rules(content, settings.content_dir)
    except ContentError as exc:
        raise fail(f"content is not valid:\n{exc}") from exc
    try:
        wanted = date.fromisoformat(f"{month}-01") if month else None
    except ValueError as exc:
        raise fail(f"--month must look like 2026-11, not {month!r}") from exc
    if lang not in (None, "nl", "en"):
        raise fail("--lang must be nl or en")

    async def work(session: AsyncSession) -> tuple[str, bytes | None]:
        found = await partnership_or_fail(session, partnership)
        language = lang or found.language
        when = wanted or datetime.now(ZoneInfo(found.timezone)).date()
        result = await compute_summary(session, content, found, when, rules=rules,
                                       min_group_size=min_group_size)
        chart = summary_chart(result, content, language) if png else None
        return render_text(result, content, rules, language, short=short), chart

    text, chart = with_session(work)
    typer.echo(text)
    if png is not None and chart is not None:
        try:
            png.write_bytes(chart)
        except OSError as exc:
            raise fail(f"cannot write {png}: {exc.strerror}") from exc
        typer.echo(f"chart written to {png}", err=True)


def plan(
    partnership: Annotated[int, typer.Option(min=1, max=MAX_ID, help="Partnership id.")],
    lang: Annotated[str | None, typer.Option(help="nl or en; the partnership's language if "
                                             "left out.")] = None,
) -> None:
    """Print a partnership's plan from the impact matrix as Markdown."""
    content = content_or_fail(Settings())
    if lang not in (None, "nl", "en"):
        raise fail("--lang must be nl or en")

    async def work(session: AsyncSession) -> str:
        found = await partnership_or_fail(session, partnership)
        return await impact_matrix.plan_document(session, content, found, lang or found.language)

    typer.echo(with_session(work), nl=False)


def register(app: typer.Typer) -> None:
    """Add `summary` and `plan` to the `achtje` command."""
    app.command()(summary)
    app.command()(plan)

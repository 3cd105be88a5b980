"""The `achtje` command: chat in the terminal, a demo, and the operator's admin commands."""

from __future__ import annotations

import asyncio
import logging
import sys
from datetime import UTC, date, datetime
from typing import Annotated

import typer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.console import ConsoleChat
from bot.commandline import content_or_fail, fail, setup_logging, with_session
from bot.content import Content, ContentError
from bot.demo import create_demo_partnership, simulate
from bot.domain import LANGS
from bot.engine import Engine
from bot.nudges.cli import nudge_app
from bot.partnerships_cli import member_app, partnership_app
from bot.partnerships_cli import register as register_partnerships
from bot.privacy.cli import register as register_privacy
from bot.reports import register as register_reports
from bot.schedule.cli import schedule_app
from bot.schedule.holidays import HolidayError, load_holidays
from bot.service import NotAvailable, configured, serve
from bot.settings import Settings, SettingsError
from bot.store import db, repo
from bot.store.models import Partnership
from bot.summary import load_summary_rules
from scheduler.outbox_commands import outbox_app

logger = logging.getLogger("achtje")

app = typer.Typer(help=__doc__, no_args_is_help=False, add_completion=False)
content_app = typer.Typer(help="Check the content files.")
db_app = typer.Typer(help="Database schema.")
app.add_typer(partnership_app, name="partnership")
app.add_typer(member_app, name="member")
app.add_typer(content_app, name="content")
app.add_typer(db_app, name="db")
app.add_typer(schedule_app, name="schedule")
app.add_typer(nudge_app, name="nudge")
app.add_typer(outbox_app, name="outbox")


def show_version(wanted: bool) -> None:
    """`achtje --version`: the installed package's version, from its metadata."""
    if wanted:
        from importlib.metadata import version
        typer.echo(f"achtje {version('achtje')}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def main_callback(ctx: typer.Context, version: Annotated[bool, typer.Option(
        "--version", callback=show_version, is_eager=True,
        help="Print the version and exit.")] = False) -> None:
    """achtje keeps vmbo-mbo partnerships healthy: check-ins, nudges and summaries in chat.

    Without a command it starts the bot: a chat in this terminal when no platform
    tokens are set (SQLite file ./achtje.db, a demo partnership when it is empty).
    """
    if ctx.invoked_subcommand is None:
        run()


@app.command()
def run() -> None:
    """Start the bot: the terminal chat, or the platforms whose tokens are set."""
    settings = Settings()
    platforms = configured(settings)
    setup_logging(settings, "INFO" if platforms else "WARNING")
    content = content_or_fail(settings)
    try:
        load_summary_rules(content)  # now, not at the first monthly summary
    except ContentError as exc:
        raise fail(f"content is not valid:\n{exc}") from exc
    if not platforms:
        asyncio.run(_console(settings, content))
        return
    try:
        asyncio.run(serve(settings, content))
    except NotAvailable as exc:
        raise fail(f"tokens are set for {exc}, but this build of achtje cannot run it yet; "
                    "unset them to chat in the terminal") from exc
    except SettingsError as exc:
        raise fail(str(exc)) from exc


async def _console(settings: Settings, content: Content) -> None:
    engine, sessions = await db.connect(settings.database_url)
    try:
        async with sessions() as session, session.begin():
            partnership = await repo.only_partnership(session)
            if partnership is None and not await session.scalar(select(Partnership.id)):
                partnership = await create_demo_partnership(session, datetime.now(UTC))
                logger.info("created demo partnership %s", partnership.id)
        chat = ConsoleChat(Engine(sessions, content, enrol_strangers=True))
        if sys.stdin.isatty() and partnership is not None:
            print(content.text("console_ready", partnership.language,
                               partnership=partnership.name) + "\n")
        await chat.start()
        await chat.stop()
    finally:
        await engine.dispose()


@app.command()
def demo(
    months: Annotated[int, typer.Option(min=1, max=36, help="Months to simulate.")] = 3,
    members: Annotated[int, typer.Option(min=2, max=500, help="Simulated members.")] = 12,
    start: Annotated[str, typer.Option(help="First day, YYYY-MM-DD.")] = "2026-09-01",
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same run.")] = 8,
    lang: Annotated[str, typer.Option(help="nl or en.")] = "nl",
) -> None:
    """Simulate a partnership answering check-ins and print the monthly summary of each month.

    Runs in a throw-away in-memory database; nothing is written to ./achtje.db.
    """
    if lang not in LANGS:
        raise fail(f"--lang must be {' or '.join(LANGS)}")
    settings = Settings()
    setup_logging(settings, "WARNING")
    content = content_or_fail(settings)
    try:
        first = date.fromisoformat(start)
    except ValueError as exc:
        raise fail(f"--start must look like 2026-09-01, not {start!r}") from exc

    async def go() -> None:
        engine, sessions = await db.connect("sqlite+aiosqlite://")
        try:
            await simulate(sessions, content, months=months, members=members, start=first,
                           seed=seed, lang=lang, write=typer.echo)
        finally:
            await engine.dispose()

    asyncio.run(go())


@content_app.command("check")
def content_check() -> None:
    """Validate every content file; names the file and field of any mistake."""
    settings = Settings()
    content = content_or_fail(settings)
    try:
        load_summary_rules(content, settings.content_dir)
        load_holidays(content.folder)
    except (ContentError, HolidayError) as exc:
        raise fail(f"content is not valid:\n{exc}") from exc
    statements = sum(1 for _ in content.all_statements())
    typer.echo(f"content is valid: {len(content.conditions)} conditions, {statements} "
               f"statements, {len(content.pitfalls)} pitfalls, {len(content.ideas)} ideas, "
               f"{len(content.ui)} UI strings")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema up to date (the terminal chat does this by itself)."""

    async def work(session: AsyncSession) -> None:
        return None

    with_session(work)
    typer.echo("database is up to date")


register_partnerships(app)  # bind, bind-code
register_reports(app)  # summary, plan
register_privacy(app)  # export, erase, retention, leader


def main() -> None:
    try:
        app()
    except db.DatabaseUnavailable as exc:  # from any command: one line, no traceback
        typer.echo(str(exc), err=True)
        sys.exit(1)

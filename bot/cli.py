"""The `achtje` command: chat in the terminal, a demo, and the operator's admin commands."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

if TYPE_CHECKING:
    from typer import _click  # typer's own copy of click

    from bot.content import Content
    from bot.settings import Settings

# Start-up imports only typer: each command imports the engine, SQLAlchemy, the adapters or
# matplotlib when it runs, so `achtje --help` and a command's own --help stay quick. The
# commands defined in other modules are loaded when they are named (`_LAZY`).

logger = logging.getLogger("achtje")


def _partnerships(holder: typer.Typer) -> None:
    from bot.partnerships_cli import member_app, partnership_app
    from bot.partnerships_cli import register as register_partnerships

    register_partnerships(holder)  # bind, bind-code
    holder.add_typer(partnership_app, name="partnership")
    holder.add_typer(member_app, name="member")


def _reports(holder: typer.Typer) -> None:
    from bot.reports import register as register_reports

    register_reports(holder)  # summary, plan


def _privacy(holder: typer.Typer) -> None:
    from bot.privacy.cli import register as register_privacy

    register_privacy(holder)  # find-member, export, erase, retention, leader


def _schedule(holder: typer.Typer) -> None:
    from bot.schedule.cli import schedule_app

    holder.add_typer(schedule_app, name="schedule")


def _nudge(holder: typer.Typer) -> None:
    from bot.nudges.cli import nudge_app

    holder.add_typer(nudge_app, name="nudge")


def _outbox(holder: typer.Typer) -> None:
    from scheduler.outbox_commands import outbox_app

    holder.add_typer(outbox_app, name="outbox")


def _teams(holder: typer.Typer) -> None:
    from adapters.teams.cli import teams_app

    holder.add_typer(teams_app, name="teams")


def _backup(holder: typer.Typer) -> None:
    from bot.backup import register as register_backup

    register_backup(holder)  # backup, restore


Loader = Callable[[typer.Typer], None]

# Every command defined elsewhere: its name, the line `achtje --help` shows for it (the first
# paragraph of its help; tests/test_cli.py checks both against the loaded commands), and
# what loads it.
_LAZY: dict[str, tuple[str, Loader]] = {
    "bind": ("Bind a platform channel to a partnership, so the people in it belong to it.",
             _partnerships),
    "bind-code": ("Make a one-time code that binds a group to a partnership: `/koppel CODE` "
                  "in the group.", _partnerships),
    "summary": ("Print a partnership's monthly condition summary, as a project leader gets "
                "it.", _reports),
    "plan": ("Print a partnership's plan from the impact matrix as Markdown.", _reports),
    "find-member": ("List every member row of a person, to export or erase each (the member "
                    "ids).", _privacy),
    "export": ("Print everything stored about one member as JSON (the right of access).",
               _privacy),
    "erase": ("Erase one member: answers, votes, pairings, conversation state and the "
              "identity.", _privacy),
    "partnership": ("Create and list partnerships.", _partnerships),
    "member": ("Add members in bulk.", _partnerships),
    "schedule": ("When check-ins, reminders, nudges and summaries go out.", _schedule),
    "nudge": ("Informal-contact nudges: the next pairs and the settings.", _nudge),
    "outbox": ("Failed and uncertain sends, and sending one again.", _outbox),
    "retention": ("How long personal data is kept, and removing what is older.", _privacy),
    "leader": ("Make a member a project leader of their partnership, or not.", _privacy),
    "teams": ("Microsoft Teams: the app package to upload in Teams.", _teams),
    "backup": ("Write every table of the database to FILE, consistently, while achtje runs.",
               _backup),
    "restore": ("Load a backup into an empty database (SQLite or PostgreSQL), then upgrade "
                "it.", _backup),
}
# The order of `achtje --help`: commands, then groups.
_ORDER = ("run", "demo", "bind", "bind-code", "summary", "plan", "find-member", "export",
          "erase", "partnership", "member", "content", "db", "schedule", "nudge", "outbox",
          "retention", "leader", "teams", "backup", "restore")


class _LazyGroup(TyperGroup):
    """A typer group that loads the commands of `_LAZY` only when one of them is named.

    Listing them (`achtje --help`) loads nothing: while the help is written, a named lazy
    command is a stand-in that carries only its line of help.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._listing = False

    def list_commands(self, ctx: _click.Context) -> list[str]:
        return [name for name in _ORDER if name in _LAZY or name in self.commands]

    def get_command(self, ctx: _click.Context, cmd_name: str) -> _click.Command | None:
        if cmd_name not in _LAZY:
            return super().get_command(ctx, cmd_name)
        line, loader = _LAZY[cmd_name]
        if self._listing:
            return TyperCommand(cmd_name, help=line)
        return load(loader).get_command(ctx, cmd_name)

    def format_help(self, ctx: _click.Context, formatter: _click.HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


def load(loader: Loader) -> TyperGroup:
    """The click group holding what `loader` registers (cached: each module loads once)."""
    found = _LOADED.get(loader)
    if found is None:
        holder = typer.Typer(add_completion=False)
        holder.callback()(lambda: None)  # a group even when it holds a single command
        loader(holder)
        found = _LOADED[loader] = typer.main.get_group(holder)
    return found


_LOADED: dict[Loader, TyperGroup] = {}

app = typer.Typer(help=__doc__, no_args_is_help=False, add_completion=False, cls=_LazyGroup)
content_app = typer.Typer(help="Check the content files.")
db_app = typer.Typer(help="Database schema.")
app.add_typer(content_app, name="content")
app.add_typer(db_app, name="db")


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
    import asyncio

    from bot.commandline import content_or_fail, fail, setup_logging
    from bot.content import ContentError
    from bot.service import NotAvailable, configured, serve
    from bot.settings import Settings, SettingsError
    from bot.summary import load_summary_rules

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
    from datetime import UTC, datetime

    from sqlalchemy import select

    from adapters.console import ConsoleChat
    from bot.demo import create_demo_partnership
    from bot.engine import Engine
    from bot.store import db, repo
    from bot.store.models import Partnership

    engine, sessions = await db.connect(settings.database_url)
    try:
        async with sessions() as session, session.begin():
            partnership = await repo.only_partnership(session)
            if partnership is None and not await session.scalar(select(Partnership.id)):
                partnership = await create_demo_partnership(session, datetime.now(UTC))
                logger.info("created demo partnership %s", partnership.id)
        chat = ConsoleChat(Engine(sessions, content, enrol_strangers=True,
                                  public_url=settings.public_url))
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
    import asyncio
    from datetime import date

    from bot.commandline import content_or_fail, fail, setup_logging
    from bot.demo import simulate
    from bot.domain import LANGS
    from bot.settings import Settings
    from bot.store import db

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
def content_check(
    sources: Annotated[Path | None, typer.Option(
        help="A folder of source texts (.txt): no content may share 10 words in a row "
             "with them.")] = None,
) -> None:
    """Validate every content file; names the file and field of any mistake, and any
    counted word without its singular, decimal point in Dutch or sentence of a source."""
    from bot.commandline import content_or_fail, fail
    from bot.content import ContentError
    from bot.schedule.holidays import HolidayError, load_holidays
    from bot.settings import Settings
    from bot.summary import load_summary_rules
    from bot.wording import wording_mistakes

    settings = Settings()
    content = content_or_fail(settings)
    try:
        load_summary_rules(content, settings.content_dir)
        load_holidays(content.folder)
    except (ContentError, HolidayError) as exc:
        raise fail(f"content is not valid:\n{exc}") from exc
    if mistakes := wording_mistakes(content, sources):
        raise fail("content has wording mistakes:\n" + "\n".join(mistakes))
    statements = sum(1 for _ in content.all_statements())
    typer.echo(f"content is valid: {len(content.conditions)} conditions, {statements} "
               f"statements, {len(content.pitfalls)} pitfalls, {len(content.ideas)} ideas, "
               f"{len(content.ui)} UI strings")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema up to date (the terminal chat does this by itself)."""
    from bot.commandline import with_session

    async def work(session: object) -> None:
        return None

    with_session(work)
    typer.echo("database is up to date")


def main() -> None:
    try:
        app()
    except Exception as exc:
        # Any command that reached the database may raise DatabaseUnavailable: one line, no
        # traceback. Such an exception means bot.store.db is loaded; otherwise it is not one.
        db = sys.modules.get("bot.store.db")
        if db is None or not isinstance(exc, db.DatabaseUnavailable):
            raise
        typer.echo(str(exc), err=True)
        sys.exit(1)

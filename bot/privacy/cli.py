"""The operator's privacy commands: export, erase, retention, and who leads a partnership."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from bot.commandline import MAX_ID, fail, with_session
from bot.flows.roles import LEADER, MEMBER
from bot.privacy.data import erase_member, export_json, export_member
from bot.privacy.retention import apply_retention
from bot.store.models import Member, Partnership
from bot.store.privacy import RetentionSettings

MemberId = Annotated[int, typer.Option("--member", min=1, max=MAX_ID, help="Member id.")]

retention_app = typer.Typer(help="How long personal data is kept, and removing what is older.")
leader_app = typer.Typer(help="Make a member a project leader of their partnership, or not.")


def export(member: MemberId) -> None:
    """Print everything stored about one member as JSON (the right of access)."""

    async def work(session: AsyncSession) -> str:
        data = await export_member(session, member)
        if data is None:
            raise fail(f"no member with id {member}")
        return export_json(data)

    typer.echo(with_session(work))


def erase(
    member: MemberId,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase one member: answers, votes, pairings, conversation state and the identity."""
    if not yes and not typer.confirm(f"Erase member {member} and all their data?"):
        raise fail("nothing erased")

    async def work(session: AsyncSession) -> list[str]:
        report = await erase_member(session, member)
        if report is None:
            raise fail(f"no member with id {member}")
        return report.lines()

    for line in with_session(work):
        typer.echo(line)


@retention_app.command("run")
def retention_run() -> None:
    """Remove now what is past its retention term, and print what was removed."""

    async def work(session: AsyncSession) -> list[str]:
        return (await apply_retention(session, datetime.now(UTC))).lines()

    for line in with_session(work):
        typer.echo(line)


@retention_app.command("set")
def retention_set(
    partnership: Annotated[int, typer.Option(min=1, max=MAX_ID, help="Partnership id.")],
    answer_months: Annotated[int, typer.Option(min=1, max=120,
                                               help="Months answers are kept.")] = 24,
    open_text_months: Annotated[int, typer.Option(
        min=0, max=24, help="Months open texts are kept after the month's summary.")] = 3,
) -> None:
    """Set a partnership's retention terms (as its school boards decided)."""

    async def work(session: AsyncSession) -> str:
        if await session.get(Partnership, partnership) is None:
            raise fail(f"no partnership with id {partnership}")
        await session.merge(RetentionSettings(
            partnership_id=partnership, answer_months=answer_months,
            open_text_months=open_text_months, updated_at=datetime.now(UTC)))
        return (f"partnership {partnership}: answers {answer_months} months, open texts "
                f"{open_text_months} months after the monthly summary")

    typer.echo(with_session(work))


def _set_role(member: int, role: str) -> None:
    async def work(session: AsyncSession) -> str:
        found = await session.get(Member, member)
        if found is None:
            raise fail(f"no member with id {member}")
        found.role = role
        return f"member {member} ({found.display_name or found.user_ref}) is now {role}"

    typer.echo(with_session(work))


@leader_app.command("add")
def leader_add(member: MemberId) -> None:
    """Make a member a project leader: summaries, starting sessions, the plan."""
    _set_role(member, LEADER)


@leader_app.command("remove")
def leader_remove(member: MemberId) -> None:
    """Make a project leader an ordinary member again."""
    _set_role(member, MEMBER)


def register(app: typer.Typer) -> None:
    """Add these commands to the `achtje` command."""
    app.command("export")(export)
    app.command("erase")(erase)
    app.add_typer(retention_app, name="retention")
    app.add_typer(leader_app, name="leader")

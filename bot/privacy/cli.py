"""The operator's privacy commands: find a person's member rows, export, erase, retention,
and who leads a partnership."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.commandline import MAX_ID, content_or_fail, fail, with_session, with_sessions
from bot.domain import LANGS, LEADER, MEMBER
from bot.privacy.data import erase_member, export_json, export_member
from bot.privacy.readable import readable_export
from bot.privacy.retention import apply_retention
from bot.settings import Settings
from bot.store.models import Member, Partnership
from bot.store.privacy import RetentionSettings
from bot.summary.frozen import freeze_before_change

MemberId = Annotated[int, typer.Option("--member", min=1, max=MAX_ID, help="Member id.")]

retention_app = typer.Typer(help="How long personal data is kept, and removing what is older.")
leader_app = typer.Typer(help="Make a member a project leader of their partnership, or not.")


def export(
    member: MemberId,
    readable: Annotated[bool, typer.Option(
        "--readable", help="In plain words instead of JSON, in the member's language.")] = False,
    lang: Annotated[str | None, typer.Option(help="nl or en, with --readable; the member's "
                                             "language if left out.")] = None,
) -> None:
    """Print everything stored about one member as JSON (the right of access).

    With `--readable`, in plain words instead, as the member gets it in chat.

    A person on two platforms or in two partnerships has a member id for each; find them
    with `achtje find-member NAME`.
    """
    content = content_or_fail(Settings()) if readable else None
    if lang is not None and lang not in LANGS:
        raise fail(f"--lang must be {' or '.join(LANGS)}")

    async def work(session: AsyncSession) -> str:
        data = await export_member(session, member)
        if data is None:
            raise fail(f"no member with id {member}")
        if content is None:
            return export_json(data)
        chosen = lang or str(data["member"].get("language") or LANGS[0])
        return (await readable_export(session, content, data, chosen)).rstrip("\n")

    typer.echo(with_session(work))


def find_member(
    query: Annotated[str, typer.Argument(help="Part of a name, or a platform user id.")],
) -> None:
    """List every member row of a person, to export or erase each (the member ids).

    achtje links no identities across platforms or partnerships: someone on Slack and on
    Telegram, or in two partnerships, is a member row in each. This finds them by name or
    by platform user id (Slack ids as TEAM:USER).
    """

    async def work(session: AsyncSession) -> list[str]:
        wanted = query.strip()
        if not wanted:
            raise fail("give part of a name or a platform user id")
        found = await session.scalars(
            select(Member).where(or_(Member.user_ref == wanted,
                                     func.lower(Member.display_name).contains(
                                         wanted.lower(), autoescape=True)))
            .order_by(Member.id))
        lines = []
        for member in found:
            partnership = await session.get(Partnership, member.partnership_id)
            lines.append(f"member {member.id}: {member.display_name or '-'} · {member.platform}"
                         f" {member.user_ref} · partnership {member.partnership_id}"
                         f" ({partnership.name if partnership else '?'}) · {member.role}")
        if not lines:
            raise fail(f"no member with {wanted!r} in their name or as their user id")
        return lines

    for line in with_session(work):
        typer.echo(line)


def erase(
    member: MemberId,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase one member: answers, votes, pairings, conversation state and the identity.

    One member is one person on one platform in one partnership. To erase a person
    everywhere, find all their rows with `achtje find-member NAME` and erase each id.
    """
    if not yes and not typer.confirm(f"Erase member {member} and all their data?"):
        raise fail("nothing erased")
    content = content_or_fail(Settings())

    async def work(session: AsyncSession) -> list[str]:
        # Closed months keep what they published (docs/privacy.md): frozen first.
        await freeze_before_change(session, content, member, datetime.now(UTC))
        report = await erase_member(session, member)
        if report is None:
            raise fail(f"no member with id {member}")
        return report.lines()

    for line in with_session(work):
        typer.echo(line)


@retention_app.command("run")
def retention_run() -> None:
    """Remove now what is past its retention term, and print what was removed."""
    content = content_or_fail(Settings())

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
        return (await apply_retention(sessions, datetime.now(UTC), content)).lines()

    for line in with_sessions(work):
        typer.echo(line)


@retention_app.command("set")
def retention_set(
    partnership: Annotated[int, typer.Option(min=1, max=MAX_ID, help="Partnership id.")],
    answer_months: Annotated[int, typer.Option(
        min=1, max=120, help="Calendar months a month's answers, votes and pairings are kept "
                             "after that month ends.")] = 24,
    open_text_months: Annotated[int, typer.Option(
        min=0, max=24, help="Calendar months a month's open texts are kept after that month "
                            "ends.")] = 3,
) -> None:
    """Set a partnership's retention terms (as its school boards decided)."""

    async def work(session: AsyncSession) -> str:
        if await session.get(Partnership, partnership) is None:
            raise fail(f"no partnership with id {partnership}")
        await session.merge(RetentionSettings(
            partnership_id=partnership, answer_months=answer_months,
            open_text_months=open_text_months, updated_at=datetime.now(UTC)))
        return (f"partnership {partnership}: a month's answers are kept {answer_months} "
                f"months, its open texts {open_text_months} months after the month ends")

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
    app.command("find-member")(find_member)
    app.command("export")(export)
    app.command("erase")(erase)
    app.add_typer(retention_app, name="retention")
    app.add_typer(leader_app, name="leader")

"""`achtje nudge`: the next pairs without sending, and a partnership's nudge settings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from bot.commandline import MAX_ID, content_or_fail, fail, partnership_or_fail, with_session
from bot.nudges import records as nudge_records
from bot.nudges.planner import compose_round, describe_round
from bot.schedule.holidays import HolidayError, load_holidays
from bot.schedule.rules import switch_nudges
from bot.settings import Settings

nudge_app = typer.Typer(help="Informal-contact nudges: the next pairs and the settings.")


@nudge_app.command("preview")
def nudge_preview(
    partnership: Annotated[int, typer.Option(min=1, max=MAX_ID, help="Partnership id.")],
) -> None:
    """Print who the next nudge round would pair, and with which idea; sends and stores nothing.

    The pairing depends only on the members, the earlier rounds and the round number, so
    this is what the next round will do unless someone pauses, opts out or joins first.
    """
    content = content_or_fail(Settings())

    async def work(session: AsyncSession) -> list[str]:
        found = await partnership_or_fail(session, partnership)
        plan = await compose_round(session, content, found, datetime.now(UTC))
        return describe_round(plan)

    for line in with_session(work):
        typer.echo(line)


@nudge_app.command("settings")
def nudge_settings(
    partnership: Annotated[int, typer.Option(min=1, max=MAX_ID, help="Partnership id.")],
    enabled: Annotated[bool | None, typer.Option(
        "--on/--off", help="Switch nudges on or off for the whole partnership.")] = None,
    same_building: Annotated[bool | None, typer.Option(
        "--same-building/--separate-buildings",
        help="Do the schools share a building? Decides which ideas fit.")] = None,
    max_minutes: Annotated[int | None, typer.Option(
        min=5, max=240, help="The longest idea to suggest, in minutes.")] = None,
    mix_levels: Annotated[bool | None, typer.Option(
        "--mix-levels/--counterparts",
        help="Every third round pair different levels (board with teacher).")] = None,
    names_in_channel: Annotated[bool | None, typer.Option(
        "--names/--no-names", help="List the pairs by name in the channel message.")] = None,
) -> None:
    """Show a partnership's nudge settings, changing those given."""
    content = content_or_fail(Settings())
    try:
        holidays = load_holidays(content.folder)
    except HolidayError as exc:
        raise fail(f"content is not valid:\n{exc}") from exc

    async def work(session: AsyncSession) -> str:
        found_partnership = await partnership_or_fail(session, partnership)
        now = datetime.now(UTC)
        if enabled is not None:  # the schedule's next nudge follows the switch
            await switch_nudges(session, holidays, found_partnership, enabled, now)
        changes = {"same_building": same_building,
                   "max_minutes": max_minutes, "mix_levels": mix_levels,
                   "names_in_channel": names_in_channel}
        if any(value is not None for value in changes.values()):
            found = await nudge_records.change_settings(session, partnership, now, **changes)
        else:
            found = await nudge_records.settings_for(session, partnership, now)
        return (f"nudges {'on' if found.enabled else 'off'}, "
                f"{'same building' if found.same_building else 'separate buildings'}, "
                f"ideas up to {found.max_minutes} minutes, "
                f"{'levels mixed every third round' if found.mix_levels else 'counterparts'}, "
                f"{'names' if found.names_in_channel else 'no names'} in the channel")

    typer.echo(with_session(work))

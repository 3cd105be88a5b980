"""`achtje outbox`: the sends that need an operator's eye, and sending one again on purpose.

The list shows failed and uncertain rows with what went wrong: kind, partnership,
recipient (a member or channel key), where it went, when it was due, attempts and the
reason. Never the message itself: that is what people were asked or told. `achtje outbox
resend ID` puts one such row back in the queue; the running service's sender takes it on
its next round. Only an operator decides this; the sender never sends an uncertain row
again by itself (docs/delivery.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.commandline import MAX_ID, fail, with_session
from bot.store.schedule import OutboxMessage

PROBLEMS = ("failed", "uncertain")
QUEUED = ("pending", "sending")
RESENDABLE = (*PROBLEMS, "expired")
# A resent row may wait this long for the sender (a platform that is down, rate limits)
# before it expires again; its old expiry was about the original day.
RESEND_WINDOW = timedelta(hours=1)
REASON_WIDTH = 160

outbox_app = typer.Typer(help="Failed and uncertain sends, and sending one again.",
                         invoke_without_command=True)


@dataclass(frozen=True)
class Problem:
    id: int
    status: str
    kind: str
    partnership_id: int
    recipient: str
    where: str
    due_at: datetime
    attempts: int
    reason: str


def _utc(moment: datetime) -> str:
    if moment.tzinfo is None:  # SQLite gives back naive UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


async def problems(
    session: AsyncSession, partnership: int | None = None, limit: int = 50
) -> list[Problem]:
    """The failed and uncertain rows, newest first."""
    query = select(OutboxMessage).where(OutboxMessage.status.in_(PROBLEMS))
    if partnership is not None:
        query = query.where(OutboxMessage.partnership_id == partnership)
    rows = await session.scalars(
        query.order_by(OutboxMessage.due_at.desc(), OutboxMessage.id.desc()).limit(limit))
    return [
        Problem(row.id, row.status, row.kind, row.partnership_id, row.recipient,
                f"{row.platform}:{row.target}" + ("" if row.direct else " (channel)"),
                row.due_at, row.attempts,
                " ".join((row.last_error or "no reason recorded").split())[:REASON_WIDTH])
        for row in rows
    ]


def render(found: list[Problem]) -> list[str]:
    if not found:
        return ["no failed or uncertain sends"]
    lines = ["id\tstatus\tkind\tpartnership\trecipient\tto\tdue (UTC)\tattempts\treason"]
    lines += [f"{p.id}\t{p.status}\t{p.kind}\t{p.partnership_id}\t{p.recipient}\t{p.where}\t"
              f"{_utc(p.due_at)}\t{p.attempts}\t{p.reason}" for p in found]
    lines.append("`achtje outbox resend ID` sends one of them again.")
    return lines


@outbox_app.callback()
def outbox_list(
    ctx: typer.Context,
    partnership: Annotated[int | None, typer.Option(
        min=1, max=MAX_ID, help="Only this partnership's sends.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many rows.")]
    = 50,
) -> None:
    """List failed and uncertain sends (newest first) with their reason; no message text."""
    if ctx.invoked_subcommand is not None:
        return

    async def work(session: AsyncSession) -> list[str]:
        return render(await problems(session, partnership, limit))

    for line in with_session(work):
        typer.echo(line)


async def requeue(session: AsyncSession, row_id: int, now: datetime) -> OutboxMessage:
    """Put a failed, uncertain or expired row back in the queue, due now, with fresh
    attempts; typer.Exit (with the reason) for anything else."""
    row = await session.get(OutboxMessage, row_id, with_for_update=True)
    if row is None:
        raise fail(f"no outbox message with id {row_id}")
    if row.status == "sent":
        sent = f" at {_utc(row.sent_at)} UTC" if row.sent_at is not None else ""
        raise fail(f"outbox {row_id} was sent{sent}; it is not sent again")
    if row.status in QUEUED:
        raise fail(f"outbox {row_id} is queued already ({row.status}); nothing to do")
    if row.status not in RESENDABLE:
        raise fail(f"outbox {row_id} is {row.status}; only {', '.join(RESENDABLE)} sends "
                   "can be sent again")
    row.status, row.due_at, row.attempts, row.claimed_until = "pending", now, 0, None
    row.expires_at = now + RESEND_WINDOW
    return row


@outbox_app.command("resend")
def outbox_resend(
    row_id: Annotated[int, typer.Argument(metavar="ID", min=1, max=MAX_ID,
                                          help="The id from `achtje outbox`.")],
) -> None:
    """Send one failed, uncertain or expired message again, on purpose (it is queued now;
    the running service sends it)."""

    async def work(session: AsyncSession) -> str:
        row = await requeue(session, row_id, datetime.now(UTC))
        return (f"outbox {row.id} ({row.kind} to {row.recipient}) is queued again; the "
                "running service sends it on its next round")

    typer.echo(with_session(work))

"""The partnership's impact matrix: its goals and each goal's rows per step (team content,
edited by anyone in the team; `bot/flows/instruments/matrix.py`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.models import Base

_PARTNERSHIP = "partnership.id"
_MEMBER = "member.id"


class MatrixGoal(Base):
    """One concrete goal in the partnership's impact matrix; its rows are `MatrixEntry`s.

    Any member may add, rename or remove a goal; `updated_by` is who changed it last (kept
    as the team's bookkeeping, never shown as someone's opinion). Goals are numbered in the
    order they were added."""

    __tablename__ = "matrix_goal"

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey(_PARTNERSHIP, ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    updated_by: Mapped[int | None] = mapped_column(ForeignKey(_MEMBER, ondelete="SET NULL"))
    updated_at: Mapped[datetime]


class MatrixEntry(Base):
    """One row of a goal for one step of the impact matrix (an activity, a contributor, a
    way to notice progress...): a step may hold several, in the order they were added."""

    __tablename__ = "matrix_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey(_PARTNERSHIP, ondelete="CASCADE"), index=True
    )
    goal_id: Mapped[int] = mapped_column(
        ForeignKey("matrix_goal.id", ondelete="CASCADE"), index=True
    )
    step_id: Mapped[str] = mapped_column(String(30))
    text: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey(_MEMBER, ondelete="SET NULL"))
    updated_at: Mapped[datetime]


async def matrix_goals(session: AsyncSession, partnership_id: int) -> list[MatrixGoal]:
    """The partnership's goals, first added first."""
    rows = await session.scalars(
        select(MatrixGoal).where(MatrixGoal.partnership_id == partnership_id)
        .order_by(MatrixGoal.id).execution_options(populate_existing=True)
    )
    return list(rows)


async def matrix_entries(session: AsyncSession, partnership_id: int) -> list[MatrixEntry]:
    """Every row of every goal of the partnership, first added first."""
    rows = await session.scalars(
        select(MatrixEntry).where(MatrixEntry.partnership_id == partnership_id)
        .order_by(MatrixEntry.id).execution_options(populate_existing=True)
    )
    return list(rows)

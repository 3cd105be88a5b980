"""Frozen months: the published result of each closed month, stored once (bot.summary.frozen).

`data` is the whole `Summary` as JSON (bot.summary.codec): numbers with their n, ids from
the content and the open texts the trust rules allowed, never a user id or a name.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.models import Base


class SummaryMonth(Base):
    """One partnership's month as it was published; written once, never recomputed."""

    __tablename__ = "summary_month"
    __table_args__ = (UniqueConstraint("partnership_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnership.id", ondelete="CASCADE"), index=True
    )
    month: Mapped[date]  # the first day of the month, in the partnership's time zone
    frozen_at: Mapped[datetime]
    min_group_size: Mapped[int] = mapped_column(Integer)
    content_version: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)

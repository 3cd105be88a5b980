"""The shared rate-limit buckets: one row per platform, chat or API method that is limited.

Every process that sends reads and moves these rows, so together they stay within what the
platform allows (scheduler/ratelimit.py). A bucket is kept as a "theoretical arrival time"
(`tat`, GCRA): one number per bucket that a single conditional UPDATE moves on, which makes
taking a token atomic on PostgreSQL (row lock) and on SQLite (one writer). Times are
seconds since the epoch, from the sending process's clock.
"""

from __future__ import annotations

from sqlalchemy import Float, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.models import Base


class RateBucket(Base):
    """`blocked_until` is when the next message may go (max of the bucket and a hold)."""

    __tablename__ = "rate_bucket"
    __table_args__ = (Index("ix_rate_bucket_blocked_until", "blocked_until"),)

    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    scope: Mapped[str] = mapped_column(String(10), primary_key=True)  # all, chat or call
    target: Mapped[str] = mapped_column(String(200), primary_key=True)
    tat: Mapped[float] = mapped_column(Float)
    held_until: Mapped[float] = mapped_column(Float)  # a 429's Retry-After, for everyone
    blocked_until: Mapped[float] = mapped_column(Float)

"""How long a partnership keeps personal data; no row means the defaults (24 and 3 months).

The school board decides these terms as controller; an operator changes them with
`achtje retention set`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.models import Base

ANSWER_MONTHS = 24
OPEN_TEXT_MONTHS = 3


class RetentionSettings(Base):
    """Calendar months a month's answers (votes, pairings, ...) and its open texts are kept
    after that month ends; `bot.privacy.retention` removes them a whole month at once."""

    __tablename__ = "retention_settings"

    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnership.id", ondelete="CASCADE"), primary_key=True
    )
    answer_months: Mapped[int] = mapped_column(Integer, default=ANSWER_MONTHS)
    open_text_months: Mapped[int] = mapped_column(Integer, default=OPEN_TEXT_MONTHS)
    updated_at: Mapped[datetime]


async def retention_terms(session: AsyncSession, partnership_id: int) -> tuple[int, int]:
    """The partnership's (answer months, open-text months): its own terms or the defaults."""
    terms = await session.scalar(select(RetentionSettings).where(
        RetentionSettings.partnership_id == partnership_id))
    if terms is None:
        return ANSWER_MONTHS, OPEN_TEXT_MONTHS
    return terms.answer_months, terms.open_text_months

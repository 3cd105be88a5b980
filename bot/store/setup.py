"""A setup wizard in progress: someone creating a partnership from an unbound group.

It is keyed by platform, chat and person, because that person belongs to no partnership
yet (so there is no member and no conversation row). It is deleted when the wizard ends.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.models import Base


class SetupDraft(Base):
    __tablename__ = "setup_draft"

    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    chat_ref: Mapped[str] = mapped_column(String(100), primary_key=True)
    user_ref: Mapped[str] = mapped_column(String(100), primary_key=True)
    data: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]

"""Offboarding: a partnership leaves, and nothing of it stays behind (`achtje partnership
remove`). Each member is erased as `achtje erase` erases one (bot/privacy/data.py), then
every row that hangs from the partnership, directly or through another row, is deleted,
children first, and the partnership itself last."""

from __future__ import annotations

import logging
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Table, delete, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.privacy.data import erase_member
from bot.store.models import Member, Partnership
from bot.store.tables import Base

logger = logging.getLogger(__name__)


def _belonging(partnership_id: int) -> list[tuple[Table, ColumnElement[bool]]]:
    """Each table with rows of the partnership, with the condition that finds them,
    parents before children (a row belongs when any of its references leads there)."""
    found: dict[str, ColumnElement[bool]] = {}
    order = []
    for table in Base.metadata.sorted_tables:
        if table.name == "partnership":
            continue
        conditions = []
        for column in table.columns:
            for fk in column.foreign_keys:
                target = fk.column.table
                if target.name == "partnership":
                    conditions.append(column == partnership_id)
                elif target.name in found:
                    conditions.append(column.in_(
                        select(fk.column).where(found[target.name]).scalar_subquery()))
        if conditions:
            found[table.name] = or_(false(), *conditions)
            order.append((table, found[table.name]))
    return order


async def erase_partnership(session: AsyncSession, partnership_id: int) -> dict[str, Any] | None:
    """Erase a partnership with its members, rounds, answers, schedules, bindings and
    instruments; None when there is none. What was deleted, per table, for the log."""
    partnership = await session.get(Partnership, partnership_id)
    if partnership is None:
        return None
    name = partnership.name
    members = list(await session.scalars(
        select(Member.id).where(Member.partnership_id == partnership_id)))
    for member_id in members:
        await erase_member(session, member_id)
    deleted: dict[str, Any] = {"members erased": len(members)}
    for table, condition in reversed(_belonging(partnership_id)):
        gone = cast(CursorResult[Any], await session.execute(delete(table).where(condition)))
        if gone.rowcount:
            deleted[table.name] = gone.rowcount
    await session.execute(delete(Partnership).where(Partnership.id == partnership_id))
    session.expunge_all()
    logger.warning("partnership %s (%s) removed: %s", partnership_id, name, deleted)
    return deleted

"""Offboarding: a partnership leaves, and nothing of it stays behind (`achtje partnership
remove`). Each member is erased as `achtje erase` erases one (bot/privacy/data.py), then
every row that hangs from the partnership, directly or through another row, is deleted,
children first, and the partnership itself last."""

from __future__ import annotations

import logging
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Table, and_, delete, exists, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.privacy.data import erase_member
from bot.store.models import ChannelBinding, Member, Partnership
from bot.store.schedule import OutboxMessage
from bot.store.setup import SetupDraft
from bot.store.slack import SlackInstallation
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


def _in(column: Any, workspace: str) -> ColumnElement[bool]:
    """A reference of the workspace: `WORKSPACE:something`."""
    return cast(ColumnElement[bool], column.startswith(f"{workspace}:", autoescape=True))


async def erase_workspace(session: AsyncSession, platform: str, workspace: str
                          ) -> dict[str, Any]:
    """A workspace left (a Slack team or org that removed achtje): erase every member whose
    id is in it, unbind its channels, drop its unsent messages, setup drafts and stored
    installation (with the tokens), and remove each partnership that has no member and no
    chat left anywhere. What went, for the caller's log line."""
    members = list(await session.execute(select(Member.id, Member.partnership_id).where(
        Member.platform == platform, _in(Member.user_ref, workspace))))
    bindings = list(await session.execute(
        select(ChannelBinding.id, ChannelBinding.partnership_id).where(
            ChannelBinding.platform == platform, _in(ChannelBinding.channel_ref, workspace))))
    for member_id, _ in members:
        await erase_member(session, member_id)
    await session.execute(delete(ChannelBinding).where(
        ChannelBinding.id.in_([binding_id for binding_id, _ in bindings])))
    unsent = await session.execute(delete(OutboxMessage).where(
        OutboxMessage.platform == platform, _in(OutboxMessage.target, workspace)))
    await session.execute(delete(SetupDraft).where(SetupDraft.platform == platform, or_(
        _in(SetupDraft.user_ref, workspace), _in(SetupDraft.chat_ref, workspace))))
    installations = 0
    if platform == "slack":
        gone = await session.execute(delete(SlackInstallation).where(or_(
            SlackInstallation.team_id == workspace,
            and_(SlackInstallation.enterprise_id == workspace,
                 SlackInstallation.is_enterprise_install))))
        installations = cast(CursorResult[Any], gone).rowcount
    removed = []
    for partnership_id in sorted({p for _, p in members} | {p for _, p in bindings}):
        left = await session.scalar(select(
            exists().where(Member.partnership_id == partnership_id)
            | exists().where(ChannelBinding.partnership_id == partnership_id)))
        if not left and await erase_partnership(session, partnership_id) is not None:
            removed.append(partnership_id)
    session.expunge_all()
    done = {"members erased": len(members), "channels unbound": len(bindings),
            "unsent messages dropped": cast(CursorResult[Any], unsent).rowcount,
            "installations dropped": installations, "partnerships removed": removed}
    return done

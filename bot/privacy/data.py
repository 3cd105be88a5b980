"""Export and erasure of one member's data.

Both walk every table that has a foreign key to `member.id` (read from the metadata, so a
table added later is covered without touching this module): rows that are the person's own
(answers, votes, pairings, conversation state) are exported and deleted; rows that hold the
team's work and only name the person as author (plan steps, talk-plate outcomes, sessions
they opened) are exported and keep their content, with the name removed.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Table, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.messages import FIRST
from bot.store.instruments import FigureEightCheck, FigureEightLevel
from bot.store.models import Member, Partnership, School
from bot.store.schedule import OutboxMessage
from bot.store.setup import SetupDraft
from bot.store.slack import SlackInstallation
from bot.store.tables import Base
from bot.store.teams import PLATFORM as TEAMS
from bot.store.teams import TeamsReference

logger = logging.getLogger(__name__)

# Tables whose rows go with the person even though their member column may be NULL:
# a queued message carries the platform user id and the text meant for them.
DELETE_WITH_MEMBER = frozenset({"outbox"})


@dataclass
class ErasureReport:
    """What erasure did, per table: rows deleted and rows that lost the name."""

    member_id: int
    deleted: dict[str, int] = field(default_factory=dict)
    anonymised: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = [f"erased member {self.member_id}"]
        out += [f"deleted {n} from {table}" for table, n in sorted(self.deleted.items()) if n]
        out += [f"removed the name from {n} in {table}"
                for table, n in sorted(self.anonymised.items()) if n]
        return out


def member_columns() -> list[tuple[Table, Column[Any]]]:
    """Every column, in every table, that points at a member."""
    found = []
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if any(fk.column.table.name == "member" for fk in column.foreign_keys):
                found.append((table, column))
    return found


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


async def export_member(session: AsyncSession, member_id: int) -> dict[str, Any] | None:
    """Everything stored about a member, as plain JSON-ready data; None if there is no such
    member."""
    member = await session.get(Member, member_id)
    if member is None:
        return None
    partnership = await session.get(Partnership, member.partnership_id)
    school = await session.get(School, member.school_id) if member.school_id else None
    tables: dict[str, list[dict[str, Any]]] = {}
    for table, column in member_columns():
        rows = (await session.execute(
            select(table).where(column == member_id).order_by(*table.primary_key.columns)
        )).mappings()
        found = [{key: _plain(value) for key, value in row.items()} for row in rows]
        if found:
            tables.setdefault(table.name, []).extend(found)
    outbox = (await session.execute(
        select(OutboxMessage.__table__).where(
            OutboxMessage.recipient == f"member:{member_id}",
            OutboxMessage.member_id.is_(None))
    )).mappings()
    for row in outbox:
        tables.setdefault("outbox", []).append({k: _plain(v) for k, v in row.items()})
    if member.platform == TEAMS:
        references = (await session.execute(select(TeamsReference.__table__).where(
            TeamsReference.key.in_(await _teams_keys(session, member.user_ref))))).mappings()
        for row in references:
            tables.setdefault("teams_reference", []).append(
                {k: _plain(v) for k, v in row.items()})
    return {
        "member": {column.key: _plain(getattr(member, column.key))
                   for column in Member.__table__.columns},
        "partnership": partnership.name if partnership else None,
        "school": school.name if school else None,
        "tables": tables,
    }


def export_json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)


def split_text(text: str, limit: int = 3000) -> list[str]:
    """Pieces of at most `limit` characters, cut at line ends where possible."""
    pieces: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:limit])
            line = line[limit:]
        if len(current) + len(line) > limit:
            pieces.append(current)
            current = ""
        current += line
    if current:
        pieces.append(current)
    return [piece.rstrip("\n") for piece in pieces]


async def erase_member(session: AsyncSession, member_id: int) -> ErasureReport | None:
    """Remove a member and everything that is theirs; None if there is no such member.

    Runs inside the caller's transaction. Objects loaded in the session are flushed first
    and detached afterwards, so nothing stale is written back.
    """
    member = await session.get(Member, member_id)
    if member is None:
        return None
    await session.flush()
    platform, user_ref, name = member.platform, member.user_ref, member.display_name
    report = ErasureReport(member_id)
    for table, column in member_columns():
        if table.name == "member":
            continue
        if column.nullable and not column.primary_key and table.name not in DELETE_WITH_MEMBER:
            changed = await session.execute(
                update(table).where(column == member_id).values({column.key: None}))
            report.anonymised[table.name] = (report.anonymised.get(table.name, 0)
                                             + _count(changed))
        else:
            gone = await session.execute(delete(table).where(column == member_id))
            report.deleted[table.name] = report.deleted.get(table.name, 0) + _count(gone)
    gone = await session.execute(delete(OutboxMessage).where(
        OutboxMessage.recipient == f"member:{member_id}"))
    report.deleted["outbox"] = report.deleted.get("outbox", 0) + _count(gone)
    scrubbed, emptied = await _drop_messages_naming(session, member.partnership_id, user_ref,
                                                    name)
    report.anonymised["outbox"] = scrubbed
    report.deleted["outbox"] += emptied
    if user_ref:  # an installer id is a platform user id: only its own person's matches
        changed = await session.execute(
            update(SlackInstallation).where(SlackInstallation.installer_user_id == user_ref)
            .values(installer_user_id=""))
        report.anonymised["slack_installation"] = _count(changed)
    gone = await session.execute(delete(SetupDraft).where(
        SetupDraft.platform == platform, SetupDraft.user_ref == user_ref))
    report.deleted["setup_draft"] = _count(gone)
    report.anonymised["figure_eight_level"] = await _drop_name(session, member.partnership_id,
                                                               name)
    gone = await session.execute(delete(Member).where(Member.id == member_id))
    report.deleted["member"] = _count(gone)
    report.deleted["teams_reference"] = await _drop_teams_reference(session, platform, user_ref)
    session.expunge_all()
    logger.info("erased member %s: %s", member_id, "; ".join(report.lines()[1:]))
    return report


async def _drop_teams_reference(session: AsyncSession, platform: str, user_ref: str) -> int:
    """How to reach a Teams person (tenant, AAD and conversation ids, and their personal
    chat with the bot) goes with their last membership."""
    if platform != TEAMS or await session.scalar(select(Member.id).where(
            Member.platform == platform, Member.user_ref == user_ref).limit(1)):
        return 0
    keys = await _teams_keys(session, user_ref)
    return _count(await session.execute(delete(TeamsReference).where(
        TeamsReference.key.in_(keys))))


async def _teams_keys(session: AsyncSession, user_ref: str) -> list[str]:
    """The Teams references that are one person's: theirs, and their personal chat's."""
    chat = await session.scalar(select(TeamsReference.conversation_id).where(
        TeamsReference.key == user_ref))
    return [user_ref, chat] if chat else [user_ref]


async def _drop_messages_naming(
    session: AsyncSession, partnership_id: int, user_ref: str, name: str
) -> tuple[int, int]:
    """Take every message that names the person (a mention of them, or their name) out of
    the partnership's outbox rows, queued or sent: a partner's nudge invitation, their
    invitation in the thread of the channel's nudge post, a list of the pairs. The rest of
    a row stays; a row left without messages is deleted. Returns (changed, deleted).

    A plain name is looked for in nudge messages only, the one kind that names people in
    text: a short name is a common word in other messages (and inside an image's base64)."""
    word = re.compile(rf"(?<!\w){re.escape(name.strip())}(?!\w)", re.IGNORECASE) \
        if name.strip() else None

    def names_them(value: Any, by_name: bool) -> bool:
        if isinstance(value, str):
            return value == user_ref or bool(by_name and word and word.search(value))
        if isinstance(value, dict):
            return any(names_them(v, by_name) for key, v in value.items()
                       if key not in ("type", "png"))
        return isinstance(value, list) and any(names_them(v, by_name) for v in value)

    changed = deleted = 0
    rows = await session.execute(
        select(OutboxMessage.id, OutboxMessage.kind, OutboxMessage.payload)
        .where(OutboxMessage.partnership_id == partnership_id))
    for row_id, kind, payload in rows.all():
        kept = [reply for reply in payload if not names_them(reply, kind.startswith("nudge"))]
        if len(kept) == len(payload):
            continue
        if not kept:
            await session.execute(delete(OutboxMessage).where(OutboxMessage.id == row_id))
            deleted += 1
            continue
        if kept[0].get("thread_of") == FIRST:  # the post it followed is gone: it leads now
            kept[0] = {**kept[0], "thread_of": None}
        await session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id)
                              .values(payload=kept))
        changed += 1
    return changed, deleted


async def _drop_name(session: AsyncSession, partnership_id: int, name: str) -> int:
    """Take the person's name out of the figure-eight lists of who is involved."""
    wanted = name.strip().casefold()
    if not wanted:
        return 0
    rows = await session.scalars(
        select(FigureEightLevel).join(FigureEightCheck,
                                      FigureEightCheck.id == FigureEightLevel.check_id)
        .where(FigureEightCheck.partnership_id == partnership_id,
               FigureEightLevel.names.contains(name.strip()))
    )
    changed = 0
    for level in rows:
        kept = [n.strip() for n in level.names.split(",") if n.strip().casefold() != wanted]
        if ", ".join(kept) != level.names:
            level.names = ", ".join(kept)
            changed += 1
    await session.flush()
    return changed


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)

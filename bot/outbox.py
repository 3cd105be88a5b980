"""Putting messages in the outbox: the one way features and the scheduler's planning ask
for a message to be delivered later.

A row holds where a message goes (platform, chat or user, direct or not) and the engine's
`Reply` objects as JSON, never a platform SDK object, so any process with that platform's
adapter can send it. Delivering rows is the scheduler's job (`scheduler/outbox.py`,
`scheduler/sender.py`); this module is below both and knows nothing of sending.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.messages import (
    Choice,
    FreeText,
    Image,
    Invitation,
    Mention,
    Option,
    Reply,
    Scale,
    Text,
)
from bot.store.repo import insert_for
from bot.store.schedule import OutboxMessage

logger = logging.getLogger(__name__)

REPLY_TYPES: dict[str, type[Reply]] = {
    cls.__name__: cls for cls in (Text, Scale, Choice, FreeText, Invitation, Image)
}


def dump_replies(replies: Sequence[Reply]) -> list[dict[str, Any]]:
    """The replies as plain JSON-able dicts: {"type": "Scale", "prompt": ..., ...}."""
    dumped = []
    for reply in replies:
        item: dict[str, Any] = {"type": type(reply).__name__}
        if item["type"] not in REPLY_TYPES:
            raise TypeError(f"cannot store a {item['type']} in the outbox")
        for spec in fields(reply):
            item[spec.name] = _dump_value(getattr(reply, spec.name))
        dumped.append(item)
    return dumped


def _dump_value(value: Any) -> Any:
    if isinstance(value, Option):
        return {"label": value.label, "value": value.value}
    if isinstance(value, Mention):
        return {"user": value.user, "name": value.name}
    if isinstance(value, tuple):
        return [_dump_value(v) for v in value]
    if isinstance(value, bytes):
        return {"base64": base64.b64encode(value).decode("ascii")}
    return value


def load_replies(data: Sequence[Mapping[str, Any]]) -> list[Reply]:
    """The replies back from `dump_replies`; ValueError for anything it did not write."""
    replies = []
    for item in data:
        cls = REPLY_TYPES.get(str(item.get("type")))
        if cls is None:
            raise ValueError(f"unknown reply type {item.get('type')!r}")
        names = {spec.name for spec in fields(cls)}
        values = {key: _load_value(key, value) for key, value in item.items() if key != "type"}
        if unknown := set(values) - names:
            raise ValueError(f"{cls.__name__} has no field {sorted(unknown)}")
        replies.append(cls(**values))
    return replies


def _load_value(key: str, value: Any) -> Any:
    if key == "options":
        return tuple(Option(o["label"], o["value"]) for o in value)
    if key == "mentions":
        return tuple(Mention(m["user"], m["name"]) for m in value)
    if key == "skip" and value is not None:
        return Option(value["label"], value["value"])
    if key == "png":
        return base64.b64decode(value["base64"])
    return value


@dataclass(frozen=True)
class Envelope:
    """One message the planner wants sent; becomes one outbox row."""

    kind: str
    partnership_id: int
    recipient: str
    local_date: date
    platform: str
    target: str
    direct: bool
    replies: tuple[Reply, ...]
    due_at: datetime
    expires_at: datetime | None
    member_id: int | None = None


async def enqueue(session: AsyncSession, envelopes: Sequence[Envelope], now: datetime) -> int:
    """Write the envelopes; one already planned (same key) is left alone. Returns new rows."""
    added = 0
    for envelope in envelopes:
        statement = (
            insert_for(session, OutboxMessage)
            .values(
                kind=envelope.kind, partnership_id=envelope.partnership_id,
                recipient=envelope.recipient, local_date=envelope.local_date,
                platform=envelope.platform, target=envelope.target, direct=envelope.direct,
                payload=dump_replies(envelope.replies), member_id=envelope.member_id,
                due_at=envelope.due_at, expires_at=envelope.expires_at, status="pending",
                attempts=0, created_at=now,
            )
            .on_conflict_do_nothing()
            .returning(OutboxMessage.id)
        )
        if (await session.execute(statement)).first() is not None:
            added += 1
    return added


async def take_back(session: AsyncSession, kind: str, partnership_id: int,
                    recipient: str) -> bool:
    """Whether the message queued under this key did not reach its chat. One still waiting
    is taken back (expired), so it cannot arrive after what replaces it; a failed or expired
    one never arrived. One being sent, sent, or perhaps sent counts as seen."""
    where = (OutboxMessage.kind == kind, OutboxMessage.partnership_id == partnership_id,
             OutboxMessage.recipient == recipient)
    taken_back = await session.execute(
        update(OutboxMessage).where(*where, OutboxMessage.status == "pending")
        .values(status="expired", last_error="taken back: replaced by the closing post"))
    if getattr(taken_back, "rowcount", 0):
        return True
    status = await session.scalar(select(OutboxMessage.status).where(*where))
    return status in (None, "failed", "expired")

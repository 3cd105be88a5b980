"""Which statements a check-in round asks, and opening a round.

Every member of a partnership gets the same statements in a round, so answers compare.
The rotation is a cycle of four rounds: any two consecutive rounds together ask all five
conditions, and any four consecutive rounds also ask the content and anchoring domains.
With the default fortnightly cadence that is every condition each month and both domains
every two months.

Each topic a round asks gets two statements: its anchor (the first of its pool in the
content), every time, and one of the others, which take turns round after round. The
summary scores a topic on its anchor, so months compare like with like; the others add
depth (docs/summary.md, "Measurement model").
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.content import Content
from bot.messages import Invitation, Option, Scale
from bot.store import repo
from bot.store.models import CheckInRound

ROTATION: tuple[tuple[str, ...], ...] = (
    ("ambition", "interests", "relations"),
    ("organisation", "process", "content"),
    ("ambition", "interests", "relations"),
    ("organisation", "process", "anchoring"),
)
ROUND_DURATION = timedelta(days=7)


def topics_for(number: int) -> tuple[str, ...]:
    """The conditions and domains round `number` (1-based) asks about."""
    return ROTATION[(number - 1) % len(ROTATION)]


def statements_for_round(content: Content, number: int) -> list[str]:
    """Per topic of round `number`: its anchor, then the next of its other statements."""
    chosen = []
    for topic in topics_for(number):
        earlier = sum(topics_for(n).count(topic) for n in range(1, number))
        anchor, *others = content.statements_for(topic)
        chosen.append(anchor.id)
        if others:
            chosen.append(others[earlier % len(others)].id)
    return chosen


async def open_round(
    session: AsyncSession,
    content: Content,
    partnership_id: int,
    now: datetime,
    duration: timedelta = ROUND_DURATION,
) -> CheckInRound:
    """Start the next round of a partnership now; it stays open for `duration`."""
    number = await repo.last_round_number(session, partnership_id) + 1
    round_ = CheckInRound(
        partnership_id=partnership_id,
        number=number,
        opens_at=now,
        closes_at=now + duration,
        statement_ids=statements_for_round(content, number),
    )
    session.add(round_)
    await session.flush()
    return round_

def statement_scale(content: Content, lang: str, round_: CheckInRound, statement_id: str) -> Scale:
    """One statement of a round with its 1-5, don't know and skip buttons.

    The check-in dialogue and the scheduler's invitation send the same message.
    """
    labels = content.scale
    prefix = f"s:{round_.id}:{statement_id}"
    options = [
        Option(label.get(lang), f"{prefix}:{score}")
        for score, label in enumerate(labels.score_labels(), start=1)
    ]
    options += [Option(labels.dont_know.get(lang), f"{prefix}:dk"),
                Option(labels.skip.get(lang), f"{prefix}:skip")]
    prompt = content.text(
        "checkin_statement", lang,
        number=round_.statement_ids.index(statement_id) + 1,
        total=len(round_.statement_ids),
        topic=content.topic_name(content.topic_of(statement_id), lang),
        statement=content.statement(statement_id).text.get(lang),
    )
    return Scale(prompt=prompt, options=tuple(options))



def checkin_intro(content: Content, lang: str, round_: CheckInRound) -> Invitation:
    """What a scheduled check-in opens with, and its `Later` button (bot/flows/snooze.py)."""
    return Invitation(text=content.text("sched_checkin_invite", lang,
                                        count=len(round_.statement_ids)),
                      button=content.text("snooze_button", lang), action=f"later:{round_.id}")

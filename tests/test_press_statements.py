"""What one press costs the database: the SQL statements a button press on a check-in
statement runs on Slack and on Telegram, counted on the real engine behind the real
adapters (SQLite and PostgreSQL). Each statement is a round trip (on SQLite a hop to the
driver's thread); the bound is the number reached, so a press that reads or writes more
fails here."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.engine import Engine
from bot.store.models import Answer, Member, Partnership
from tests.conftest import Clock
from tests.slack_fakes import SlackRig, bound_rig, buttons_of
from tests.telegram_fakes import ANNA, Bot, running

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

# The processed-event marker, the member with their partnership and its schools (locked),
# the round with which of its statements the member answered, the answer, the next
# question asked. (Telegram's
# "their private chat takes messages again" is part of the turn, free while nobody is
# marked unreachable.)
STATEMENTS_PER_PRESS = 5


@pytest.fixture
async def slack(engine: Engine, partnership: Partnership, sessions: async_sessionmaker[Any],
                clock: Clock) -> AsyncIterator[SlackRig]:
    async with bound_rig(engine, partnership.id, sessions, clock.now) as rig:
        yield rig


@contextmanager
def counted(sessions: async_sessionmaker[Any]) -> Iterator[list[str]]:
    """Every SQL statement sent to the database while the block runs."""
    sent: list[str] = []
    engine = sessions.kw["bind"].sync_engine

    def before(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", before)


def last_buttons(slack: SlackRig) -> dict[str, str]:
    return buttons_of(slack.fake.posted()[-1])


async def answers(sessions: async_sessionmaker[Any]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Answer)) or 0)


async def test_a_press_on_a_statement_runs_five_statements_and_asks_slack_nothing_more(
    slack: SlackRig, sessions: async_sessionmaker[Any]
) -> None:
    await slack.dm("hoi")
    for label in ("Vmbo De Brug", "Docenten", "Nederlands"):
        await slack.press(last_buttons(slack)[label], channel="DU1")
    await slack.dm("checkin")
    asked_who = len(slack.fake.of("users.info"))
    for number in (2, 3, 4):
        posted = len(slack.fake.posted())
        with counted(sessions) as sent:
            await slack.press(last_buttons(slack)["mee eens"], channel="DU1")
        # The press took effect: stored, the next statement posted, the pressed one shown.
        assert await answers(sessions) == number - 1
        assert slack.fake.texts()[-1].startswith(f"{number}/6")
        assert len(slack.fake.posted()) > posted
        assert len(sent) <= STATEMENTS_PER_PRESS, "\n".join(sent)
    # A member we know is not looked up on Slack again (only newcomers are introduced).
    assert len(slack.fake.of("users.info")) == asked_who


@pytest.fixture
async def telegram(engine: Engine, partnership: Partnership) -> AsyncIterator[Bot]:
    async for started in running(engine, "webhook"):
        yield started


async def test_a_press_on_telegram_runs_five_statements(
    telegram: Bot, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock
) -> None:
    async with sessions() as session, session.begin():
        session.add(Member(partnership_id=partnership.id, platform="telegram",
                           user_ref=str(ANNA.id), display_name=ANNA.first_name,
                           school_id=partnership.schools[0].id, level="teachers",
                           language="nl", onboarded_at=clock.now, created_at=clock.now))
    await telegram.say(ANNA, "/checkin")
    for number in (2, 3, 4):
        with counted(sessions) as sent:
            calls = await telegram.press(ANNA, "4")
        assert await answers(sessions) == number - 1
        assert any(c.method == "sendMessage" and c.text.startswith(f"{number}/6")
                   for c in calls)
        assert len(sent) <= STATEMENTS_PER_PRESS, "\n".join(sent)

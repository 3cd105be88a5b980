"""The Home tab as a teacher opens it: their settings, their pause and the next check-in."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.engine import Engine
from bot.store.models import Partnership
from bot.store.schedule import Schedule
from tests.conftest import Clock
from tests.slack_fakes import SlackRig, buttons_of, slack_rig, view_of
from tests.test_slack_http import onboard_in_dm

TUESDAY_MORNING = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # 09:00 in Amsterdam


@pytest.fixture
async def slack(engine: Engine, partnership: Partnership) -> AsyncIterator[SlackRig]:
    async with slack_rig(engine) as rig:
        yield rig


async def plan_checkin(sessions: async_sessionmaker[Any], partnership: Partnership,
                       clock: Clock, next_run_at: datetime | None) -> None:
    """The partnership's check-in schedule, with its next round where the planner put it."""
    async with sessions() as session, session.begin():
        session.add(Schedule(partnership_id=partnership.id, kind="checkin", enabled=True,
                             weekday=1, local_time="09:00", cadence_weeks=2,
                             next_run_at=next_run_at, updated_at=clock.now))


async def open_home(slack: SlackRig, user: str = "U1") -> str:
    """Everything the Home tab shows, as one string."""
    await slack.event({"type": "app_home_opened", "user": user, "channel": "D" + user,
                       "tab": "home"})
    published = slack.fake.of("views.publish")[-1]
    assert published.args["user_id"] == user
    return json.dumps(view_of(published)["blocks"], ensure_ascii=False)


async def test_the_next_checkin_is_shown_in_the_partnerships_own_time(
    slack: SlackRig, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock
) -> None:
    await plan_checkin(sessions, partnership, clock, TUESDAY_MORNING)
    await onboard_in_dm(slack)
    shown = await open_home(slack)
    assert "Volgende check-in: dinsdag 1 december 2026 om 09:00." in shown
    assert "geen pauze" in shown

    async with sessions() as session, session.begin():  # a partnership on Bonaire
        await session.execute(update(Partnership).values(timezone="America/Kralendijk"))
    assert "Volgende check-in: dinsdag 1 december 2026 om 04:00." in await open_home(slack)


async def test_the_home_tab_speaks_the_members_language(
    slack: SlackRig, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock
) -> None:
    await plan_checkin(sessions, partnership, clock, TUESDAY_MORNING)
    slack.fake.users["U1"] = {"locale": "en-GB"}
    await slack.dm("hi")
    for label in ("English", "Mbo College Kompas", "Teachers"):  # its locale: language first
        await slack.press(buttons_of(slack.fake.posted()[-1])[label], channel="DU1")
    shown = await open_home(slack)
    assert "Next check-in: Tuesday 1 December 2026 at 09:00." in shown
    assert "no pause" in shown and "Volgende" not in shown


async def test_a_pause_over_the_next_checkin_says_until_when(
    slack: SlackRig, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock
) -> None:
    await plan_checkin(sessions, partnership, clock, TUESDAY_MORNING)
    await onboard_in_dm(slack)
    await slack.press("pause:2", channel="DU1")  # today is Tuesday 24 November 2026
    shown = await open_home(slack)
    assert "gepauzeerd tot 8 december 2026" in shown
    assert "Volgende check-in: je bent gepauzeerd tot 8 december 2026." in shown
    assert "1 december 2026" not in shown


async def test_a_pause_that_ends_before_the_next_checkin_shows_its_date(
    slack: SlackRig, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock
) -> None:
    await plan_checkin(sessions, partnership, clock, datetime(2026, 12, 15, 8, 0, tzinfo=UTC))
    await onboard_in_dm(slack)
    await slack.press("pause:1", channel="DU1")
    shown = await open_home(slack)
    assert "gepauzeerd tot 1 december 2026" in shown
    assert "Volgende check-in: dinsdag 15 december 2026 om 09:00." in shown

    clock.advance(weeks=1)  # the pause is over
    shown = await open_home(slack)
    assert "geen pauze" in shown and "gepauzeerd" not in shown


@pytest.mark.parametrize("planned", ["no schedule", "nothing planned"])
async def test_no_planned_checkin_is_said_plainly(
    slack: SlackRig, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock,
    planned: str
) -> None:
    if planned == "nothing planned":  # a schedule whose rounds have all been sent
        await plan_checkin(sessions, partnership, clock, None)
    await onboard_in_dm(slack)
    shown = await open_home(slack)
    assert "Er is nog geen volgende check-in gepland." in shown
    assert "Volgende check-in" not in shown


async def test_an_open_round_and_the_next_one_are_both_shown(
    slack: SlackRig, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock
) -> None:
    await onboard_in_dm(slack)
    await slack.dm("checkin")  # no schedule yet: a round opens now
    await plan_checkin(sessions, partnership, clock, TUESDAY_MORNING)
    shown = await open_home(slack)
    assert "Je hebt 0 van de 6 stellingen beantwoord." in shown
    assert "Volgende check-in: dinsdag 1 december 2026 om 09:00." in shown

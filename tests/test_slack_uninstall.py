"""A Slack workspace that removes achtje (`app_uninstalled`) leaves nothing behind: its
members are erased, its channels unbound, its installation and tokens dropped, and a
partnership that lived only there is removed, while other workspaces and chats are
untouched. A revoked bot token (`tokens_revoked`, perhaps a reset) only drops the token.
Over real HTTP with signed requests, against the fake Slack; an unsigned request erases
nothing."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.slack.install import token_cipher
from bot.demo import create_demo_partnership
from bot.engine import Engine
from bot.privacy.offboard import erase_workspace
from bot.store import db
from bot.store.models import ChannelBinding, Member, Partnership
from bot.store.slack import SlackInstallation
from tests.privacy_fakes import add_member, fill, traces
from tests.slack_fakes import SlackRig, event_body, slack_rig
from tests.test_offboard import rows_of

SECRET_KEY = "a-secret-only-the-operator-knows"
OAUTH = {"SLACK_BOT_TOKEN": "", "SLACK_CLIENT_ID": "111.222", "SLACK_CLIENT_SECRET": "shh",
         "ACHTJE_SECRET_KEY": SECRET_KEY}
NOW = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)


async def slack_member(session: AsyncSession, partnership: Partnership, user: str) -> Member:
    member = await add_member(session, partnership, user.split(":")[1], NOW)
    member.platform, member.user_ref = "slack", user
    await session.flush()
    return member


async def partnership_in(session: AsyncSession, channel: str, name: str) -> Partnership:
    partnership = await create_demo_partnership(session, NOW, "slack", channel)
    partnership.name = name
    await session.flush()
    return partnership


def installed(team: str) -> SlackInstallation:
    token = token_cipher(SECRET_KEY).encrypt(f"xoxb-secret-{team}".encode()).decode()
    return SlackInstallation(team_id=team, bot_id="B1", bot_user_id="UBOT",
                             team_name=f"School {team}", bot_token_encrypted=token,
                             installed_at=NOW)


async def seed(sessions: async_sessionmaker[Any]) -> dict[str, Any]:
    """Workspace T2 holds partnership Alleen-T2 (two members with data everywhere) and one
    member of Gemengd, which also has a Telegram group and a member there; T3 holds
    partnership Elders-T3. T2 and T3 installed achtje."""
    async with sessions() as session, session.begin():
        only = await partnership_in(session, "T2:C1", "Alleen-T2")
        zeynep = await slack_member(session, only, "T2:U5")
        bert = await slack_member(session, only, "T2:U6")
        await fill(session, only, zeynep, bert, NOW)
        mixed = await partnership_in(session, "telegram-group", "Gemengd")
        await session.execute(ChannelBinding.__table__.update().where(
            ChannelBinding.partnership_id == mixed.id).values(platform="telegram",
                                                              channel_ref="-100123"))
        anna = await slack_member(session, mixed, "T2:U7")
        piet = await add_member(session, mixed, "4242", NOW)
        piet.platform = "telegram"
        await fill(session, mixed, anna, piet, NOW)
        elsewhere = await partnership_in(session, "T3:C9", "Elders-T3")
        karin = await slack_member(session, elsewhere, "T3:U5")
        session.add_all([installed("T2"), installed("T3")])
        return {"only": only.id, "gone": [zeynep.id, bert.id, anna.id], "mixed": mixed.id,
                "piet": piet.id, "elsewhere": elsewhere.id, "karin": karin.id}


async def members(sessions: async_sessionmaker[Any]) -> set[str]:
    async with sessions() as session:
        return set(await session.scalars(select(Member.user_ref)))


async def teams(sessions: async_sessionmaker[Any]) -> list[str]:
    async with sessions() as session:
        return sorted(await session.scalars(select(SlackInstallation.team_id)))


@pytest.fixture
async def hosted(engine: Engine) -> AsyncIterator[SlackRig]:
    async with slack_rig(engine, **OAUTH) as rig:
        yield rig


async def test_an_uninstalled_workspace_leaves_nothing_behind(
        hosted: SlackRig, sessions: async_sessionmaker[Any],
        caplog: pytest.LogCaptureFixture) -> None:
    seeded = await seed(sessions)
    with caplog.at_level(logging.WARNING):
        response = await hosted.event({"type": "app_uninstalled"}, team="T2")
    assert response.status == 200

    async with sessions() as session:
        assert await rows_of(session, seeded["only"]) == []
        for member_id, name in zip(seeded["gone"], ("U5", "U6", "U7"), strict=True):
            assert await traces(session, member_id, f"T2:{name}") == []
        assert await traces(session, -1, "Alleen-T2", "T2:C1") == []
        # The mixed partnership stays for its Telegram group and member; T3 is untouched.
        mixed = await session.get(Partnership, seeded["mixed"])
        assert mixed is not None and mixed.name == "Gemengd"
        assert await session.get(Member, seeded["piet"]) is not None
        assert await session.get(Member, seeded["karin"]) is not None
        assert await session.scalar(select(func.count()).select_from(ChannelBinding)) == 2
    assert await members(sessions) == {"4242", "T3:U5"}
    assert await teams(sessions) == ["T3"]
    assert (f"removed from Slack workspace T2: 3 members erased, 1 channels unbound, "
            f"partnerships removed: {seeded['only']}") in caplog.text
    # Said once, and the installation deleted once (with the rest, not before it apart).
    assert sum("workspace T2" in record.getMessage() for record in caplog.records) == 1
    assert "Slack tokens removed" not in caplog.text


async def test_a_workspace_reference_is_no_pattern(sessions: async_sessionmaker[Any]) -> None:
    """`_` and `%` in a workspace's reference stand for themselves, not for any letter."""
    async with sessions() as session, session.begin():
        partnership = await partnership_in(session, "X9:C1", "Gemengd")
        for user in ("T_1:U1", "TX1:U2", "T%:U3", "T1:U4", "T\\:U5"):
            await slack_member(session, partnership, user)
    async with sessions() as session, session.begin():
        for workspace in ("T_1", "T%", "T\\"):
            assert (await erase_workspace(session, "slack", workspace))["members erased"] == 1
    assert await members(sessions) == {"TX1:U2", "T1:U4"}


async def test_a_revoked_bot_token_drops_the_token_and_keeps_the_data(
        hosted: SlackRig, sessions: async_sessionmaker[Any],
        caplog: pytest.LogCaptureFixture) -> None:
    await seed(sessions)
    before = await members(sessions)
    await hosted.event({"type": "tokens_revoked", "tokens": {"oauth": ["U5"]}}, team="T2")
    assert await members(sessions) == before and await teams(sessions) == ["T2", "T3"]

    with caplog.at_level(logging.WARNING):
        await hosted.event({"type": "tokens_revoked",
                            "tokens": {"oauth": [], "bot": ["UBOT"]}}, team="T3")
    assert await members(sessions) == before
    assert await teams(sessions) == ["T2"]
    assert "bot token of Slack workspace T3 was revoked" in caplog.text
    assert "installed there again" in caplog.text
    # Slack sends both when a workspace uninstalls, in either order.
    await hosted.event({"type": "app_uninstalled"}, team="T3")
    assert await members(sessions) == before - {"T3:U5"}


async def test_a_request_not_signed_by_slack_erases_nothing(
        hosted: SlackRig, sessions: async_sessionmaker[Any]) -> None:
    await seed(sessions)
    before = await members(sessions)
    body = json.dumps(event_body({"type": "app_uninstalled"}, team="T2"))
    unsigned = await hosted.post(body, "application/json", signed=False)
    forged = await hosted.post(body, "application/json", headers={
        "X-Slack-Signature": "v0=" + "0" * 64})
    assert (unsigned.status, forged.status) == (401, 401)
    assert await members(sessions) == before and await teams(sessions) == ["T2", "T3"]


async def test_the_one_workspace_of_a_bot_token_leaves_too(
        engine: Engine, sessions: async_sessionmaker[Any],
        caplog: pytest.LogCaptureFixture) -> None:
    async with sessions() as session, session.begin():
        alone = await partnership_in(session, "T1:C1", "Eén werkruimte")
        await slack_member(session, alone, "T1:U1")
        other = await partnership_in(session, "T9:C1", "Andere")
        await slack_member(session, other, "T9:U1")
    async with slack_rig(engine) as slack:
        with caplog.at_level(logging.WARNING):
            await slack.event({"type": "app_uninstalled"})
    assert await members(sessions) == {"T9:U1"}
    async with sessions() as session:
        assert await session.get(Partnership, alone.id) is None
    assert "SLACK_BOT_TOKEN no longer works in Slack workspace T1" in caplog.text


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(people=st.lists(st.tuples(st.sampled_from(["T1", "T2", "tg"]), st.integers(0, 2)),
                       max_size=8),
       chats=st.lists(st.tuples(st.sampled_from(["T1", "T2", "tg"]), st.integers(0, 2)),
                      max_size=4))
def test_a_workspace_leaving_takes_exactly_its_own_along(
        tmp_path_factory: pytest.TempPathFactory, people: list[tuple[str, int]],
        chats: list[tuple[str, int]]) -> None:
    """Whatever the mix of workspaces and partnerships: after T1 leaves, nobody and no chat
    of T1 is left, everyone and every chat elsewhere is, and a partnership is gone exactly
    when it had nobody and no chat outside T1."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('w') / 'a.db'}"

    def ref(where: str, number: int, kind: str) -> tuple[str, str]:
        return ("telegram", f"{number + 1}") if where == "tg" else (
            "slack", f"{where}:{kind}{number}")

    async def scenario() -> None:
        engine, sessions = await db.connect(url)
        try:
            async with sessions() as session, session.begin():
                ids = [(await partnership_in(session, f"tg-{n}", f"P{n}")).id
                       for n in range(3)]
                await session.execute(ChannelBinding.__table__.delete())
                for number, (where, which) in enumerate(people):
                    member = await add_member(session, await session.get(
                        Partnership, ids[which]), f"x{number}", NOW)
                    member.platform, member.user_ref = ref(where, number, "U")
                for number, (where, which) in enumerate(chats):
                    platform, channel = ref(where, number + 100, "C")
                    session.add(ChannelBinding(partnership_id=ids[which], platform=platform,
                                               channel_ref=channel, created_at=NOW))
            async with sessions() as session, session.begin():
                await erase_workspace(session, "slack", "T1")
            async with sessions() as session:
                left = set(await session.scalars(select(Member.user_ref)))
                bound = set(await session.scalars(select(ChannelBinding.channel_ref)))
                kept = set(await session.scalars(select(Partnership.id)))
        finally:
            await engine.dispose()
        assert left == {ref(w, n, "U")[1] for n, (w, _) in enumerate(people) if w != "T1"}
        assert bound == {ref(w, n + 100, "C")[1] for n, (w, _) in enumerate(chats)
                         if w != "T1"}
        touched = {p for w, p in people + chats if w == "T1"}
        elsewhere = {p for w, p in people + chats if w != "T1"}
        assert kept == {ids[n] for n in range(3) if n not in touched or n in elsewhere}

    asyncio.run(scenario())

"""Every chat command, typed by a member and by a project leader in the partnership's
channel, over the real Slack and Telegram adapters against their fake servers.

What only leaders may do (declared `leaders=True` or in `leader_words` with the command, in
bot/registry.py) refuses a member politely and privately, and works for a leader; every
other command works for both; nobody ever gets a traceback or the error apology. The
commands come from the registry, so a command added later is tried without touching this
file.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot import registry
from bot.content import Content
from bot.domain import LEADER, MEMBER
from bot.engine import Engine
from bot.store.models import ChannelBinding, Member, Partnership
from tests.conftest import Clock
from tests.slack_fakes import TEAM, blocks_of, slack_rig
from tests.telegram_fakes import ANNA, BOB, GROUP, running

Sessions = async_sessionmaker[Any]
# What a Python error looks like when it leaks: never in anything sent to anyone.
FORBIDDEN = ("Traceback", 'File "', "Error: ", "Exception: ")


@dataclass(frozen=True)
class Try:
    """One line to type, and whether only project leaders may."""

    typed: str
    leaders_only: bool


def tries() -> list[Try]:
    """Every command once, by its first name, and each part of one only leaders may use."""
    found = []
    for command in registry.commands():
        words = command.leader_words  # in the order given, so `start` comes before `sluit`
        found.append(Try(command.name, command.leaders or "" in words))
        found += [Try(f"{command.name} {word}", True) for word in words if word]
    return found


def test_what_roles_name_are_commands() -> None:
    leden, members = registry.find("leden"), registry.find("members")
    assert leden is not None and leden is members and leden.leaders
    typed = [t.typed for t in tries()]
    assert {"reflectie start", "reflectie sluit", "leden"} <= set(typed)
    assert len(typed) == len(set(typed))


@dataclass(frozen=True)
class Said:
    """What one typed line made the bot send: the texts, and where each went."""

    texts: list[tuple[str, str]]  # (where, text); where is "private" or "channel"
    raw: str  # every API call's arguments, to search for what must never show


Send = Callable[[str, str], Awaitable[Said]]  # (who, typed) -> what was sent


async def run_matrix(send: Send, content: Content) -> list[str]:
    """Type every line as a member and as a leader; what went wrong, one line each."""
    refusal = content.text("leaders_only", "nl")
    apologies = tuple(content.text(key, lang) for key in ("error", "not_linked")
                      for lang in ("nl", "en"))
    problems = []
    for attempt in tries():
        for who in (MEMBER, LEADER):
            said = await send(who, attempt.typed)
            where = f"{who} typing {attempt.typed!r}"
            shown = [text for _, text in said.texts]
            if not shown:
                problems.append(f"{where}: no answer")
            bad = [w for w in (*FORBIDDEN, *apologies) if w in said.raw]
            if bad:
                problems.append(f"{where}: shows {bad}: {shown}")
            refused = [place for place, text in said.texts if refusal in text]
            if who == MEMBER and attempt.leaders_only:
                if refused != ["private"]:
                    problems.append(f"{where}: expected one private refusal, got {shown}")
            elif refused:
                problems.append(f"{where}: refused, though "
                                + ("a leader" if who == LEADER else "not only for leaders"))
    return problems


def no_errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [f"logged: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR]


async def add_people(sessions: Sessions, partnership: Partnership, clock: Clock,
                     platform: str, channel: str, users: dict[str, str]) -> None:
    """The channel bound, and one onboarded person per role (`users`: role -> user ref)."""
    async with sessions() as session, session.begin():
        session.add(ChannelBinding(partnership_id=partnership.id, platform=platform,
                                   channel_ref=channel, created_at=clock.now))
        for role, user in users.items():
            session.add(Member(partnership_id=partnership.id, platform=platform, user_ref=user,
                               display_name=f"{role} {user}", role=role, language="nl",
                               school_id=partnership.schools[0].id, level="teachers",
                               onboarded_at=clock.now, created_at=clock.now))


async def test_every_command_for_every_role_over_slack(
    engine: Engine, sessions: Sessions, partnership: Partnership, clock: Clock,
    content: Content, caplog: pytest.LogCaptureFixture
) -> None:
    users = {MEMBER: "U1", LEADER: "U2"}
    await add_people(sessions, partnership, clock, "slack", f"{TEAM}:C1",
                     {role: f"{TEAM}:{user}" for role, user in users.items()})
    async with slack_rig(engine) as slack:

        async def send(who: str, typed: str) -> Said:
            before = len(slack.fake.calls)
            response = await slack.command(typed, user=users[who], channel="C1")
            assert response.status == 200, typed
            calls = slack.fake.calls[before:]
            texts = []
            for call in calls:
                if call.method not in ("chat.postMessage", "chat.postEphemeral"):
                    continue
                to_them = call.args.get("user") == users[who]
                in_dm = str(call.args.get("channel", "")).startswith("D")
                private = in_dm or (call.method == "chat.postEphemeral" and to_them)
                for block in blocks_of(call):
                    if block.get("type") == "section":
                        texts.append(("private" if private else "channel",
                                      block["text"]["text"]))
            return Said(texts, json.dumps([c.args for c in calls], ensure_ascii=False))

        problems = await run_matrix(send, content)
    problems += no_errors_logged(caplog)
    assert not problems, "\n".join(problems)


async def test_every_command_for_every_role_over_telegram(
    engine: Engine, sessions: Sessions, partnership: Partnership, clock: Clock,
    content: Content, caplog: pytest.LogCaptureFixture
) -> None:
    people = {MEMBER: ANNA, LEADER: BOB}
    await add_people(sessions, partnership, clock, "telegram", str(GROUP),
                     {role: str(user.id) for role, user in people.items()})
    async with asynccontextmanager(running)(engine, "polling") as bot:

        async def send(who: str, typed: str) -> Said:
            user = people[who]
            calls = await bot.say(user, f"/{typed}", GROUP)
            texts = [("private" if call.chat == user.id else "channel", call.text)
                     for call in calls if call.method in ("sendMessage", "sendPhoto")]
            return Said(texts, json.dumps([c.params for c in calls], ensure_ascii=False,
                                          default=repr))

        problems = await run_matrix(send, content)
    problems += no_errors_logged(caplog)
    assert not problems, "\n".join(problems)

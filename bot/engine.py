"""The dialogue engine: one `Incoming` in, the `Reply` objects to show out.

Each call runs in one database transaction: the conversation state, the answers and the
record that a platform event was handled are written together or not at all, so any
process can continue a conversation and a redelivered event is not handled twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.content import Content
from bot.domain import LEVEL_IDS
from bot.flows import binding, checkin, commands, members, onboarding, roles, setup
from bot.flows.instruments import common as instruments
from bot.flows.instruments import figure_eight, matrix, poll, reflection, talk_plate
from bot.flows.turn import Turn, clean_text, match_option
from bot.messages import Incoming, Noted, Outcome, Reply, Text, locale_language
from bot.nudges import commands as nudge_commands
from bot.nudges import followup as nudge_followup
from bot.privacy import chat as privacy_chat
from bot.schedule import chat as schedule_chat
from bot.store import repo
from bot.store.models import MAX_ID, Member, Partnership
from bot.summary import command as summary_command

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
# The default connection pool holds 5 connections plus 10 overflow.
MAX_CONCURRENT_TURNS = 10
Command = Callable[[Turn, str], Awaitable[list[Reply]]]

COMMANDS: dict[str, Command] = {}
for _names, _command in (
    (("help", "hulp", "menu", "start", "hoi", "hallo", "hi", "hello"), commands.help_),
    (("checkin", "check-in"), lambda turn, _arg: checkin.start(turn)),
    (("valkuilen", "valkuil", "pitfalls", "pitfall"), poll.pitfalls),  # browse, or a poll
    (("pauze", "pause"), commands.pause),
    (("taal", "language", "lang"), commands.language),
    (("privacy",), privacy_chat.command),  # what is kept; export, erase
    (("reflectie", "reflection"), reflection.command),
    (("achtje", "figure8", "figure-eight", "eight"), figure_eight.command),
    (("matrix", "impactmatrix"), matrix.command),
    (("praatplaat", "talkplate", "talk-plate"), talk_plate.command),
    (("instrumenten", "instruments"), instruments.menu),
    (binding.NAMES, binding.command),
    (setup.NAMES, setup.command),  # in an unbound group it runs before member lookup
    (("koffie", "coffee"), nudge_commands.coffee),  # koffie uit / aan
    (members.NAMES, members.command),  # leaders: who takes part, remove, invite
    (("rooster", "schedule"), schedule_chat.command),  # project leaders: when things go out
    (summary_command.NAMES, summary_command.command),  # for leaders: samenvatting [maand]
):
    COMMANDS.update(dict.fromkeys(_names, _command))
# Commands only project leaders may use (named in bot/flows/roles.py), under every alias.
LEADER_ONLY = frozenset(COMMANDS[name] for name in roles.LEADER_COMMANDS if name in COMMANDS)
# What someone may do before we know their school and level.
BEFORE_ONBOARDING = {"help", "hulp", "menu", "privacy", "taal", "language", "lang"}
# The same button pressed again this soon after it started the sign-up questions is a
# double click, not a newcomer who lost the question.
REPEAT_WINDOW = timedelta(seconds=30)
# A greeting from a newcomer starts onboarding and needs no answer of its own after it.
GREETINGS = {"start", "hoi", "hallo", "hi", "hello"}

TextFlow = Callable[[Turn, dict[str, Any], str], Awaitable[list[Reply]]]
# Conversations that take a typed answer of their own: a name, a plan step, a score.
TEXT_FLOWS: dict[str, TextFlow] = {
    reflection.FLOW: reflection.typed,
    figure_eight.FLOW: figure_eight.typed,
    matrix.FLOW: matrix.typed,
    talk_plate.FLOW: talk_plate.typed,
    schedule_chat.FLOW: schedule_chat.typed,
}


def utc_now() -> datetime:
    return datetime.now(UTC)


def parse_command(text: str) -> tuple[str | None, str]:
    """`/Help@achtje_bot extra` -> ("help", "extra"); not a command -> (None, text)."""
    first, _, rest = text.partition(" ")
    name = first.lstrip("/").split("@", 1)[0].lower()
    return (name, rest.strip().lower()) if name in COMMANDS else (None, text)


class Engine:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        content: Content,
        clock: Clock = utc_now,
        enrol_strangers: bool = False,
    ) -> None:
        """`enrol_strangers`: someone writing from an unbound chat joins the deployment's
        only partnership (the terminal chat, a demo); otherwise they are told how to join."""
        self.sessions = sessions
        self.content = content
        self.clock = clock
        self.enrol_strangers = enrol_strangers
        self._turns = asyncio.Semaphore(_concurrent_turns(sessions))

    async def handle(self, incoming: Incoming) -> Outcome:
        """Answer one incoming event; never raises, never shows a traceback to a user."""
        lang = _guess_language(incoming)
        try:
            async with self._turns, self.sessions() as session, session.begin():
                now = self.clock()
                if incoming.event_id and not await repo.mark_processed(
                    session, incoming.platform, incoming.event_id, now
                ):
                    logger.info("skipping redelivered %s event %s",
                                incoming.platform, incoming.event_id)
                    return Outcome([], lang)
                replies, lang = await self._route(session, incoming, now, lang)
        except Exception:
            logger.exception("could not handle %s event from %s in %s",
                             incoming.platform, incoming.user, incoming.chat)
            replies = [Text(text=self.content.text("error", lang), retry=True)]
        if incoming.direct or _binds_group(incoming):
            return Outcome(replies, lang)
        # In a group chat everything personal is said to the person alone; a flow marks the
        # few posts meant for the whole chat (announcements, polls, aggregates) `public`.
        return Outcome([reply if reply.public else replace(reply, private=True)
                        for reply in replies], lang)

    async def _route(
        self, session: AsyncSession, incoming: Incoming, now: datetime, lang: str
    ) -> tuple[list[Reply], str]:
        """The replies, and the language of the person they are for."""
        command_name = None if incoming.action or incoming.visible else parse_command(
            clean_text(incoming.text, limit=4000)[0])[0]
        if await setup.claims(session, incoming, command_name):
            # Before the member lookup too: who sets up a partnership belongs to none yet.
            return await setup.handle(session, self.content, now, incoming, command_name), lang
        if incoming.visible:
            # A line the whole group reads (on Telegram: a reply to one of the bot's
            # messages) answers only the setup wizard: it is no command, answers no
            # question asked privately, and makes no one a member.
            logger.info("ignoring a typed line in group %s", incoming.chat)
            return [], lang
        if _binds_group(incoming):
            # Before the member lookup: whoever binds a new group is usually unknown yet.
            _, arg = parse_command(clean_text(incoming.text, limit=4000)[0])
            return await binding.link(session, self.content, now, incoming, arg), lang
        found = await self._member(session, incoming, now)
        if found is None:
            return [Text(text=self.content.text("not_linked", lang))], lang
        turn = Turn(session, self.content, now, incoming, *found)
        if incoming.action is not None:
            replies = await self._on_action(turn, incoming.action[:200])
        else:
            replies = await self._on_text(turn, clean_text(incoming.text, limit=4000)[0])
        return replies, turn.lang

    async def _member(
        self, session: AsyncSession, incoming: Incoming, now: datetime
    ) -> tuple[Member, Partnership] | None:
        """The member behind an identity, created on first contact when we know where."""
        partnership = None
        if not incoming.direct:
            partnership = await repo.partnership_for_chat(session, incoming.platform,
                                                          incoming.chat)
        for member in await repo.identities(session, incoming.platform, incoming.user):
            if partnership is None or member.partnership_id == partnership.id:
                known = await session.get(Partnership, member.partnership_id)
                assert known is not None
                await repo.lock_member(session, member)  # one turn per person at a time
                if incoming.direct and member.unreachable_at is not None:
                    # They wrote to us, so we can write back.
                    await repo.set_reachable(session, incoming.platform, incoming.user, True,
                                             now, member_id=member.id)
                return member, known
        partnership = (
            partnership
            or await repo.partnership_for_chat(session, incoming.platform, incoming.chat)
            or (await repo.only_partnership(session) if self.enrol_strangers else None)
        )
        if partnership is None:
            return None
        member, new = await repo.create_member(
            session,
            partnership_id=partnership.id,
            platform=incoming.platform,
            user_ref=incoming.user[:100],
            display_name=clean_text(incoming.display_name, limit=200)[0],
            language=_guess_language(incoming, partnership.language),
            created_at=now,
        )
        if new:
            logger.info("new member %s in partnership %s", member.id, partnership.id)
        else:  # made a moment ago by this person's other event, in another turn
            await repo.lock_member(session, member)
        return member, partnership

    async def _on_text(self, turn: Turn, text: str) -> list[Reply]:
        name, arg = parse_command(text)
        onboarded = turn.member.onboarded_at is not None
        if name is not None and len(text.split()) > 2 and not text.startswith("/"):
            # "Taal is lastig voor ons" answers an open question; it is not `taal`.
            open_question = await repo.conversation(turn.session, turn.member.id)
            if open_question is not None and (
                open_question.flow in TEXT_FLOWS or open_question.flow == "followup"
            ):
                name = None
        if name is not None:
            if not onboarded and name not in BEFORE_ONBOARDING:
                return await onboarding.start(turn, None if name in GREETINGS else {"text": text})
            if COMMANDS[name] in LEADER_ONLY and not roles.is_leader(turn.member):
                return roles.leaders_only(turn)
            return await COMMANDS[name](turn, arg)
        state = await repo.conversation(turn.session, turn.member.id)
        if state is None:
            if not onboarded:
                return await onboarding.start(turn, None)
            return [turn.say("unknown")]
        data = state.data
        if state.flow == "checkin":
            value = checkin.parse_typed_answer(text)
            if value is None:
                return [turn.say("checkin_typed_help")]
            return await checkin.answer(turn, data["round_id"], data["statement_id"], value)
        if state.flow == "followup":
            comment = None if checkin.parse_typed_answer(text) == "skip" else text
            return await checkin.followup(turn, data["round_id"], data["statement_id"], comment)
        if state.flow in TEXT_FLOWS:
            return await TEXT_FLOWS[state.flow](turn, data, text)
        value = match_option(text, data.get("options", []))
        if value is None:
            if not onboarded:
                return [await onboarding.next_question(turn, data.get("resume"))]
            return [turn.say("unknown")]
        return await self._on_action(turn, value)

    async def _on_action(self, turn: Turn, value: str) -> list[Reply]:
        kind, _, rest = value.partition(":")
        parts = rest.split(":")
        handler = _ACTIONS.get(kind)
        if handler is None or any(_beyond_ids(part) for part in parts):
            logger.warning("ignoring an unknown action or one beyond our ids: %r", value)
            return [turn.say("stale_button")]
        if turn.member.onboarded_at is None and kind not in _ONBOARDING_ACTIONS:
            if await _just_asked(turn, {"action": value}):
                return [Noted()]  # a double click: the sign-up question was just asked
            return await onboarding.start(turn, {"action": value})
        try:
            return await handler(self, turn, parts)
        except (ValueError, IndexError, KeyError):
            logger.warning("ignoring malformed action %r", value)
            return [turn.say("stale_button")]

    async def _resume(self, turn: Turn) -> list[Reply]:
        """After an onboarding answer: the next question, or welcome and replay."""
        state = await repo.conversation(turn.session, turn.member.id)
        resume = state.data.get("resume") if state is not None else None
        if turn.member.onboarded_at is None:
            return [await onboarding.next_question(turn, resume)]
        await repo.clear_conversation(turn.session, turn.member.id)
        return [turn.say("onboarded")]

    async def _act_school(self, turn: Turn, parts: list[str]) -> list[Reply]:
        school = await repo.school(turn.session, turn.partnership.id, int(parts[0]))
        if school is None:
            return [turn.say("stale_button")]
        answered = turn.member.school_id is not None
        turn.member.school_id = school.id
        if answered and not await _offered(turn, f"school:{school.id}"):
            return [Noted()]  # the last choice stands; the next question was asked
        return await self._resume(turn)

    async def _act_level(self, turn: Turn, parts: list[str]) -> list[Reply]:
        if parts[0] not in LEVEL_IDS:
            raise ValueError(parts[0])
        answered = turn.member.level is not None
        turn.member.level = parts[0]
        if answered and not await _offered(turn, f"level:{parts[0]}"):
            return [Noted()]
        return await self._resume(turn)

    async def _act_language(self, turn: Turn, parts: list[str]) -> list[Reply]:
        if parts[0] not in ("nl", "en"):
            raise ValueError(parts[0])
        if turn.member.onboarded_at is not None and not await _offered(
                turn, f"lang:{parts[0]}"):
            turn.member.language = parts[0]  # a second tap: no second welcome or replay
            return [Noted()]
        if turn.member.onboarded_at is not None:
            await repo.clear_conversation(turn.session, turn.member.id)
            return commands.set_language(turn, parts[0])
        turn.member.language = parts[0]
        turn.member.onboarded_at = turn.now
        state = await repo.conversation(turn.session, turn.member.id)
        resume = state.data.get("resume") if state is not None else None
        replies = await self._resume(turn)
        if resume and "action" in resume:
            return replies + await self._on_action(turn, resume["action"])
        if resume and "text" in resume:
            return replies + await self._on_text(turn, resume["text"])
        return replies

    async def _act_answer(self, turn: Turn, parts: list[str]) -> list[Reply]:
        round_id, statement_id, value = int(parts[0]), parts[1], parts[2]
        if value not in ("1", "2", "3", "4", "5", "dk", "skip"):
            raise ValueError(value)
        return await checkin.answer(turn, round_id, statement_id, value)

    async def _act_followup_skip(self, turn: Turn, parts: list[str]) -> list[Reply]:
        return await checkin.followup(turn, int(parts[0]), parts[1], None)

    async def _act_change(self, turn: Turn, parts: list[str]) -> list[Reply]:
        return await checkin.change(turn, int(parts[0]), parts[1])

    async def _act_pitfall(self, turn: Turn, parts: list[str]) -> list[Reply]:
        await repo.clear_conversation(turn.session, turn.member.id)
        return [commands.show_pitfall(turn, turn.content.pitfall(parts[0]).id)]

    async def _act_pause(self, turn: Turn, parts: list[str]) -> list[Reply]:
        await repo.clear_conversation(turn.session, turn.member.id)
        return commands.set_pause(turn, int(parts[0]))

    async def _act_command(self, turn: Turn, parts: list[str]) -> list[Reply]:
        return await self._on_text(turn, parts[0])


_Action = Callable[[Engine, Turn, list[str]], Awaitable[list[Reply]]]
_ACTIONS: dict[str, _Action] = {
    "school": Engine._act_school,
    "level": Engine._act_level,
    "lang": Engine._act_language,
    "s": Engine._act_answer,
    "f": Engine._act_followup_skip,
    "change": Engine._act_change,
    "pitfall": Engine._act_pitfall,
    "pause": Engine._act_pause,
    "cmd": Engine._act_command,
    "rj": reflection.act_join,  # rj:<session id>
    "rs": reflection.act_answer,  # rs:<session id>:<condition>:<1-5|dk|skip>
    "pv": poll.act_vote,  # pv:<poll id>:<pitfall number>
    "e8": figure_eight.act_answer,  # e8:<check id>:<step>:<1-5|dk|skip|none>
    "mx": matrix.act_step,  # mx:<step number>[:next|keep]
    "tp": talk_plate.act,  # tp:<talk-plate id>:<position>:next|note|stop|cancel
    "avg": privacy_chat.act,  # avg:export|erase|erase_yes|erase_no (always oneself)
    "nm": nudge_followup.on_answer,  # nm:<nudge group id>:<m|p|n> (met, planned, not yet)
    "lm": members.act,  # lm:<member id>[:yes|no] a leader removes a member
    "sch": schedule_chat.act,  # sch:<partnership>:ask|set|start|menu|done (leaders)
}
_ONBOARDING_ACTIONS = {"school", "level", "lang", "avg"}  # avg: privacy, any time


async def _just_asked(turn: Turn, resume: dict[str, Any]) -> bool:
    """Whether this very press started the sign-up questions moments ago: a channel's
    button clicked twice by a newcomer (each click its own event there)."""
    state = await repo.conversation(turn.session, turn.member.id)
    return (state is not None and state.data.get("resume") == resume
            and turn.now - state.updated_at < REPEAT_WINDOW)


async def _offered(turn: Turn, value: str) -> bool:
    """Whether the member's open question offers this button: a press that answers it
    moves the conversation on; one on a question answered before (a second tap, another
    of its buttons, a stale copy) only replaces the choice."""
    state = await repo.conversation(turn.session, turn.member.id)
    return state is not None and state.flow == "choice" and any(
        option[1] == value for option in state.data.get("options", []))


def _binds_group(incoming: Incoming) -> bool:
    """Whether this is `koppel CODE`: answered before member lookup, for the whole group."""
    if incoming.action is not None or not incoming.text:
        return False
    return parse_command(clean_text(incoming.text, limit=4000)[0])[0] in binding.NAMES


def _beyond_ids(part: str) -> bool:
    """A number in a (hand-typed) button value that no id column can hold."""
    try:
        return abs(int(part)) > MAX_ID
    except ValueError:
        return False


def _concurrent_turns(sessions: async_sessionmaker[AsyncSession]) -> int:
    """How many turns may run at once: SQLite takes one writer at a time, so turns queue
    here rather than time out on its lock; elsewhere stay within the connection pool."""
    bind = sessions.kw.get("bind")
    return 1 if bind is not None and bind.dialect.name == "sqlite" else MAX_CONCURRENT_TURNS


def _guess_language(incoming: Incoming, fallback: str = "nl") -> str:
    return locale_language(incoming.locale, fallback)

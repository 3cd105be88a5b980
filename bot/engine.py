"""The dialogue engine: one `Incoming` in, the `Reply` objects to show out.

Each call runs in one database transaction: the conversation state, the answers and the
record that a platform event was handled are written together or not at all, so any
process can continue a conversation and a redelivered event is not handled twice.

The engine only routes: what each command, button kind and typed-answer flow does is
declared next to its handler in the feature modules (`bot.registry`, `bot.features`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import features, registry
from bot.content import Content
from bot.flows import binding, onboarding, roles, setup
from bot.flows.guess import ask_again, guess
from bot.flows.state import Choosing, Resume
from bot.flows.turn import MAX_LINE, Said, Turn, clean_text, says_stop, typed_number
from bot.messages import Incoming, Noted, Outcome, Reply, Text, known_language
from bot.store import repo
from bot.store.models import MAX_ID, Member, Partnership
from bot.tenants import SetupPolicy

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Introduce = Callable[[Incoming], Awaitable[Incoming]]
# The default connection pool holds 5 connections plus 10 overflow.
MAX_CONCURRENT_TURNS = 10
# `cmd:<line>`: a button that types a line for the person (`cmd:checkin`, `cmd:koffie aan`).
TYPED = "cmd"
assert features.MODULES  # imported for what it declares in the registry


def utc_now() -> datetime:
    return datetime.now(UTC)


class Engine:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        content: Content,
        clock: Clock = utc_now,
        enrol_strangers: bool = False,
        setup_policy: SetupPolicy | None = None,
        public_url: str | None = None,
    ) -> None:
        """`enrol_strangers`: someone writing from an unbound chat joins the deployment's
        only partnership (the terminal chat, a demo); otherwise they are told how to join.
        `public_url`: where people reach this server (ACHTJE_PUBLIC_URL), for the links the
        chat gives to the dashboard; None where there is none."""
        self.sessions = sessions
        self.content = content
        self.clock = clock
        self.enrol_strangers = enrol_strangers
        self.setup_policy = setup_policy or SetupPolicy()  # ACHTJE_SETUP: open by default
        self.public_url = public_url
        self._turns = asyncio.Semaphore(_concurrent_turns(sessions))

    async def handle(self, incoming: Incoming, introduce: Introduce | None = None, *,
                     reachable: bool = False) -> Outcome:
        """Answer one incoming event; never raises, never shows a traceback to a user.

        `introduce`: how the platform says who someone we have not met is (their locale
        and name, so a welcome is in their language). Whether we know them is read in the
        turn itself; for a stranger the turn is rolled back, the platform asked outside
        any transaction, and the turn run again with what it said.
        `reachable`: the event came through the person's own private chat, so each of
        their memberships marked unreachable is reachable again (written in the turn)."""
        if introduce is not None:
            try:
                return await self._handle(incoming, reachable, stranger_ends=True)
            except _Stranger:
                pass
            try:
                incoming = await introduce(incoming)
            except Exception:
                logger.exception("could not ask %s who %s is", incoming.platform, incoming.user)
        return await self._handle(incoming, reachable, stranger_ends=False)

    async def _handle(self, incoming: Incoming, reachable: bool, stranger_ends: bool
                      ) -> Outcome:
        said = _read(incoming)
        guessed = known_language(incoming.locale)
        lang = guessed or "nl"
        try:
            async with self._turns, self.sessions() as session, session.begin():
                now = self.clock()
                written = bool(incoming.event_id)
                if written and not await repo.mark_processed(
                    session, incoming.platform, incoming.event_id or "", now
                ):
                    logger.info("skipping redelivered %s event %s",
                                incoming.platform, incoming.event_id)
                    return Outcome([], lang)
                # Who this is, read once a turn (with their partnerships, and locked).
                known = await repo.memberships(session, incoming.platform, incoming.user,
                                               written=written)
                if stranger_ends and not known:
                    raise _Stranger
                if reachable and any(m.unreachable_at is not None for m, _ in known):
                    await repo.set_reachable(session, incoming.platform, incoming.user, True,
                                             now)
                    logger.info("%s user %s is reachable again", incoming.platform,
                                incoming.user)
                replies, lang = await self._route(session, incoming, said, now, guessed,
                                                  known)
        except _Stranger:
            raise
        except Exception:
            logger.exception("could not handle %s event from %s in %s",
                             incoming.platform, incoming.user, incoming.chat)
            replies = [Text(text=self.content.text("error", lang), retry=True)]
        if incoming.direct or said.command in binding.NAMES:
            return Outcome(replies, lang)
        # In a group chat everything personal is said to the person alone; a flow marks the
        # few posts meant for the whole chat (announcements, polls, aggregates) `public`.
        return Outcome([reply if reply.public else replace(reply, private=True)
                        for reply in replies], lang)

    async def _route(
        self, session: AsyncSession, incoming: Incoming, said: Said, now: datetime,
        guessed: str | None, known: list[tuple[Member, Partnership]],
    ) -> tuple[list[Reply], str]:
        """The replies, and the language of the person they are for."""
        lang = guessed or "nl"
        bound = None
        if not incoming.direct:  # the partnership of this group or channel, once a turn
            bound = await repo.partnership_for_chat(session, incoming.platform, incoming.chat)
        if await setup.claims(session, incoming, said):
            # Before the member lookup too: who sets up a partnership belongs to none yet.
            return await setup.handle(session, self.content, now, incoming, said, bound,
                                      self.setup_policy), lang
        if incoming.visible and said.command is None:
            # A line the whole group reads (on Telegram: a reply to one of the bot's
            # messages) answers only the setup wizard: it is no command, answers no
            # question asked privately, and makes no one a member.
            logger.info("ignoring a typed line in group %s", incoming.chat)
            return [], lang
        if said.command in binding.NAMES:
            # `koppel CODE`, before the member lookup: whoever binds a new group is
            # usually unknown yet. The answer is for the whole group.
            return await binding.link(session, self.content, now, incoming, said.arg,
                                      bound), lang
        found = await self._member(session, incoming, now, bound, guessed, known)
        if found is None:
            return [Text(text=self.content.text("not_linked", lang))], lang
        turn = Turn(session, self.content, now, incoming, *found, router=self,
                    public_url=self.public_url)
        if incoming.action is not None:
            replies = await self.on_action(turn, incoming.action[:200])
        else:
            replies = await self._on_said(turn, said)
        return replies, turn.lang

    async def _member(
        self, session: AsyncSession, incoming: Incoming, now: datetime,
        bound: Partnership | None, guessed: str | None,
        known: list[tuple[Member, Partnership]],
    ) -> tuple[Member, Partnership] | None:
        """The member behind an identity (`known`: their memberships, locked), created on
        first contact when we know where."""
        for member, own in known:
            if bound is None or member.partnership_id == bound.id:
                if incoming.direct and member.unreachable_at is not None:
                    # They wrote to us, so we can write back.
                    await repo.set_reachable(session, incoming.platform, incoming.user, True,
                                             now, member_id=member.id)
                return member, own
        partnership = bound
        if partnership is None and incoming.direct:
            partnership = await repo.partnership_for_chat(session, incoming.platform,
                                                          incoming.chat)
        if partnership is None and self.enrol_strangers:
            partnership = await repo.only_partnership(session)
        if partnership is None:
            return None
        member, new = await repo.create_member(
            session,
            partnership_id=partnership.id,
            platform=incoming.platform,
            user_ref=incoming.user[:100],
            display_name=clean_text(incoming.display_name, limit=200)[0],
            language=guessed or partnership.language,
            created_at=now,
        )
        if new:
            logger.info("new member %s in partnership %s", member.id, partnership.id)
        else:  # made a moment ago by this person's other event, in another turn
            await repo.lock_member(session, member)
        return member, partnership

    async def on_text(self, turn: Turn, text: str) -> list[Reply]:
        """A line typed by the member (or replayed, or typed for them by a `cmd:` button)."""
        return await self._on_said(turn, registry.read(text))

    async def _on_said(self, turn: Turn, said: Said) -> list[Reply]:
        name, text = said.command, said.text
        onboarded = turn.member.onboarded_at is not None
        state = None
        if name is None or (len(text.split()) > 2 and not text.startswith("/")):
            state = await repo.conversation(turn.session, turn.member.id)
        flow = registry.find_flow(state.flow) if state is not None else None
        if name is not None and flow is not None and flow.sentences:
            name = None  # "Taal is lastig voor ons" answers an open question; it is no `taal`
        declared = registry.find(name) if name is not None else None
        if declared is not None:
            if not onboarded and not declared.before_onboarding:
                waiting = None if declared.greeting else Resume(text=text)
                return await onboarding.start(turn, waiting)
            if declared.leaders and not roles.is_leader(turn.member):
                return roles.leaders_only(turn)
            return await declared.handler(turn, said.arg)
        if state is None:
            if not onboarded:
                return await onboarding.start(turn, None)
            return await guess(turn, text) or [turn.say("unknown")]
        if flow is not None:
            return await flow.handler(turn, state.data, text)
        choosing = Choosing.of(state)
        value = choosing.match(text) if choosing is not None else None
        if value is None:
            if not onboarded:
                resume = choosing.resume if choosing is not None else None
                count = len(choosing.options) if choosing is not None else 0
                return [turn.say("onboarding_reask", most=count),
                        await onboarding.next_question(turn, resume)]
            if choosing is not None and typed_number(text) is not None:
                return await ask_again(turn, choosing, state.data)
            if says_stop(text):  # a menu left: its own Stop, or nothing chosen
                if choosing is not None and (stop := choosing.stop()) is not None:
                    return await self.on_action(turn, stop)
                await repo.clear_conversation(turn.session, turn.member.id)
                return [turn.say("menu_stopped")]
            return await guess(turn, text) or [turn.say("unknown")]
        return await self.on_action(turn, value)

    async def on_action(self, turn: Turn, value: str) -> list[Reply]:
        """A button pressed (or its option typed): `<kind>:<part>:...`."""
        kind, _, rest = value.partition(":")
        parts = rest.split(":")
        declared = registry.find_action(kind)
        if (declared is None and kind != TYPED) or any(_beyond_ids(part) for part in parts):
            logger.warning("ignoring an unknown action or one beyond our ids: %r", value)
            return [turn.say("stale_button")]
        if turn.member.onboarded_at is None and not (declared and declared.onboarding):
            if await onboarding.just_asked(turn, Resume(action=value)):
                return [Noted()]  # a double click: the sign-up question was just asked
            return await onboarding.start(turn, Resume(action=value))
        try:
            if declared is None:
                return await self.on_text(turn, parts[0])
            return await declared.handler(turn, parts)
        except (ValueError, IndexError, KeyError):
            logger.warning("ignoring malformed action %r", value)
            return [turn.say("stale_button")]


class _Stranger(Exception):
    """The turn is of someone we have not met and the platform can say who they are."""


def _read(incoming: Incoming) -> Said:
    """The typed line of this turn, cleaned and parsed once. A line the whole group reads
    is a command only when it names the bot (`addressed`)."""
    if incoming.action is not None:
        return Said("")
    text = clean_text(incoming.text, limit=MAX_LINE)[0]
    if incoming.visible and not incoming.addressed:
        return Said(text)
    return registry.read(text)


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



"""Getting to know a member the first time they write: school, level, language.

What they were doing when we had to ask (a command or a button, `resume`) is carried
through the questions and replayed once they are done. Someone whose platform speaks
another language than Dutch (its locale) is asked the language first, in both languages,
so the other questions come in the language they chose.
"""

from __future__ import annotations

from datetime import timedelta

from bot import registry
from bot.domain import LEVEL_IDS
from bot.flows.state import Choosing, Resume
from bot.flows.turn import Turn
from bot.messages import Noted, Option, Reply, known_language
from bot.store import repo

# The same button pressed again this soon after it started the sign-up questions is a
# double click, not a newcomer who lost the question.
REPEAT_WINDOW = timedelta(seconds=30)
# Kept with the open sign-up question: the language was asked first and answered.
CHOSEN = "language_chosen"


async def start(turn: Turn, resume: Resume | None) -> list[Reply]:
    """Welcome the member and ask the first thing we do not know yet; someone welcomed
    already (a sign-up question is open) hears why it is asked again, not the welcome."""
    if Choosing.of(await repo.conversation(turn.session, turn.member.id)) is not None:
        welcome = turn.say("onboarding_first")
    else:
        welcome = turn.say("welcome", partnership=turn.partnership.name)
    return [welcome, await next_question(turn, resume)]


async def next_question(turn: Turn, resume: Resume | None, *, chosen: bool = False) -> Reply:
    """The first sign-up question not answered yet; `chosen`: the language was, first."""
    keep: dict[str, object] = {"resume": resume.to_json()} if resume else {}
    chosen = chosen or await _language_chosen(turn)
    if chosen:
        keep[CHOSEN] = True
    member = turn.member
    if _language_first(turn) and not chosen:
        return await turn.ask(turn.t("ask_language_first"), language_options(turn), keep)
    if member.school_id is None and turn.partnership.schools:
        options = [Option(s.name, f"school:{s.id}") for s in turn.partnership.schools]
        return await turn.ask(turn.t("ask_school"), options, keep)
    if member.level is None:
        options = [Option(turn.content.level_name(lv, turn.lang), f"level:{lv}")
                   for lv in LEVEL_IDS]
        return await turn.ask(turn.t("ask_level"), options, keep)
    return await turn.ask(turn.t("ask_language"), language_options(turn), keep)


def _language_first(turn: Turn) -> bool:
    """Whether the platform's locale names a language other than Dutch."""
    return bool(turn.incoming.locale) and known_language(turn.incoming.locale) != "nl"


def _complete(turn: Turn) -> bool:
    """Whether school (when there are schools) and level are known."""
    member = turn.member
    return (member.school_id is not None or not turn.partnership.schools) \
        and member.level is not None


async def _language_chosen(turn: Turn) -> bool:
    state = await repo.conversation(turn.session, turn.member.id)
    return bool(state is not None and Choosing.of(state) is not None and state.data.get(CHOSEN))


def language_options(turn: Turn) -> list[Option]:
    return [Option(turn.t("language_nl"), "lang:nl"), Option(turn.t("language_en"), "lang:en")]


def set_language(turn: Turn, lang: str) -> list[Reply]:
    turn.member.language = lang
    return [turn.say("language_set")]


async def just_asked(turn: Turn, resume: Resume) -> bool:
    """Whether this very press started the sign-up questions moments ago: a channel's
    button clicked twice by a newcomer (each click its own event there)."""
    state = await repo.conversation(turn.session, turn.member.id)
    choosing = Choosing.of(state)
    return (state is not None and choosing is not None and choosing.resume == resume
            and turn.now - state.updated_at < REPEAT_WINDOW)


@registry.action("school", onboarding=True)  # school:<school id>
async def act_school(turn: Turn, parts: list[str]) -> list[Reply]:
    school = await repo.school(turn.session, turn.partnership.id, int(parts[0]))
    if school is None:
        return [turn.say("stale_button")]
    answered = turn.member.school_id is not None
    turn.member.school_id = school.id
    if answered and not await _offered(turn, f"school:{school.id}"):
        return [Noted()]  # the last choice stands; the next question was asked
    return await _resume(turn)


@registry.action("level", onboarding=True)  # level:<level id>
async def act_level(turn: Turn, parts: list[str]) -> list[Reply]:
    if parts[0] not in LEVEL_IDS:
        raise ValueError(parts[0])
    answered = turn.member.level is not None
    turn.member.level = parts[0]
    if answered and not await _offered(turn, f"level:{parts[0]}"):
        return [Noted()]
    return await _resume(turn)


@registry.action("lang", onboarding=True)  # lang:nl|en, the last sign-up question or `taal`
async def act_language(turn: Turn, parts: list[str]) -> list[Reply]:
    if parts[0] not in ("nl", "en"):
        raise ValueError(parts[0])
    if turn.member.onboarded_at is not None and not await _offered(
            turn, f"lang:{parts[0]}"):
        turn.member.language = parts[0]  # a second tap: no second welcome or replay
        return [Noted()]
    if turn.member.onboarded_at is not None:
        await repo.clear_conversation(turn.session, turn.member.id)
        return set_language(turn, parts[0])
    turn.member.language = parts[0]
    if not _complete(turn):  # asked first: the other questions follow, in this language
        return [await next_question(turn, await _waiting(turn), chosen=True)]
    return await _finish(turn)


async def _finish(turn: Turn) -> list[Reply]:
    """Every question answered: welcome, and replay what waited for the questions."""
    turn.member.onboarded_at = turn.now
    resume = await _waiting(turn)
    replies = await _resume(turn)
    router = turn.router
    if router is not None and resume is not None and resume.action is not None:
        return replies + await router.on_action(turn, resume.action)
    if router is not None and resume is not None and resume.text is not None:
        return replies + await router.on_text(turn, resume.text)
    return replies


async def _resume(turn: Turn) -> list[Reply]:
    """After an onboarding answer: the next question, or welcome."""
    if turn.member.onboarded_at is None:
        if _complete(turn) and await _language_chosen(turn):
            return await _finish(turn)
        return [await next_question(turn, await _waiting(turn))]
    await repo.clear_conversation(turn.session, turn.member.id)
    return [turn.say("onboarded")]


async def _offered(turn: Turn, value: str) -> bool:
    """Whether the member's open question offers this button: a press that answers it
    moves the conversation on; one on a question answered before (a second tap, another
    of its buttons, a stale copy) only replaces the choice."""
    choosing = Choosing.of(await repo.conversation(turn.session, turn.member.id))
    return choosing is not None and choosing.offers(value)


async def _waiting(turn: Turn) -> Resume | None:
    """What the newcomer did before the sign-up questions, carried by the open one."""
    choosing = Choosing.of(await repo.conversation(turn.session, turn.member.id))
    return choosing.resume if choosing is not None else None
